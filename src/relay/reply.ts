/**
 * Builders for what an agent sends: a reply in the protocol the message came by (NIP-17 wrapped to
 * every participant and to the agent itself; NIP-04 kind 4; kind 1 with NIP-10 markers), and a fresh
 * NIP-17 DM. Each returns signed events with their outbox target; nothing is sent here.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { Kind } from '../protocol/kinds.js';
import { createReplyTags } from '../protocol/nip10.js';
import { createChatRumor, wrapForRecipients, type WrapEntropy } from '../protocol/nip17.js';
import type { Signer } from '../signer/types.js';
import type { InboundMessage, OutgoingEvent } from './types.js';

/** Time and randomness; each defaults to the real thing (unix now, CSPRNG jitter, fresh one-time keys). */
export type ReplyEntropy = Partial<WrapEntropy>;

function secureRandom(): number {
  return (crypto.getRandomValues(new Uint32Array(1))[0] as number) / 2 ** 32;
}

function entropyOf(e: ReplyEntropy = {}): WrapEntropy {
  return {
    now: e.now ?? Math.floor(Date.now() / 1000),
    random: e.random ?? secureRandom,
    newWrapKey: e.newWrapKey ?? (() => schnorr.utils.randomSecretKey()),
  };
}

/** Options of a NIP-17 message. */
export interface DirectMessageOptions {
  subject?: string;
  replyTo?: { id: string; relay?: string };
  /** Other participants of a group room (besides `recipient`). */
  cc?: string[];
  /** The rumor's `created_at` (unix s) when the caller fixed it in advance, so it knows the rumor id; default now. */
  createdAt?: number;
}

/**
 * A NIP-17 DM from the agent: one wrap per recipient (target `dm`) and one to the agent itself
 * (target `own`), all carrying the same rumor.
 */
export function buildDirectMessage(signer: Signer, recipient: string, text: string, options: DirectMessageOptions = {}, entropy?: ReplyEntropy): OutgoingEvent[] {
  const me = signer.getPublicKey();
  const e = entropyOf(entropy);
  const recipients = [...new Set([recipient, ...(options.cc ?? [])])].filter((p) => p !== me);
  if (recipients.length === 0) throw new Error('a direct message needs a recipient other than the sender');
  const rumor = createChatRumor(me, { recipients, content: text, subject: options.subject, replyTo: options.replyTo, createdAt: options.createdAt ?? e.now });
  const wraps = wrapForRecipients(rumor, signer, recipients, e, true);
  return wraps.map((event, i) => ({ event, target: i < recipients.length ? { type: 'dm', recipient: recipients[i] as string } : { type: 'own' } }));
}

/** The reply to an inbound message, in the protocol it came by, threaded to it. */
export function buildReply(message: InboundMessage, text: string, signer: Signer, entropy?: ReplyEntropy): OutgoingEvent[] {
  const me = signer.getPublicKey();
  if (me !== message.agentPubkey) throw new Error('reply signer is not the agent the message was for');
  const e = entropyOf(entropy);
  const relay = message.replyTo.relay ?? '';
  switch (message.protocol) {
    case 'nip17': {
      const [first, ...rest] = message.replyTo.participants.length > 0 ? message.replyTo.participants : [message.sender];
      return buildDirectMessage(signer, first as string, text, { subject: message.subject, replyTo: { id: message.replyTo.parentId, relay }, cc: rest }, e);
    }
    case 'nip04': {
      const content = signer.nip04.encrypt(message.sender, text);
      const tags = [['p', message.sender], ['e', message.replyTo.parentId, relay, 'reply']];
      const event = signer.signEvent({ kind: Kind.EncryptedDirectMessage, created_at: e.now, tags, content });
      return [{ event, target: { type: 'dm', recipient: message.sender } }];
    }
    case 'note': {
      const parent = message.replyTo.parentEvent ?? { id: message.replyTo.parentId, pubkey: message.sender, tags: [] };
      const event = signer.signEvent({ kind: Kind.TextNote, created_at: e.now, tags: createReplyTags(parent, me, relay), content: text });
      return [{ event, target: message.relay ? { type: 'relays', relays: [message.relay] } : { type: 'own' } }];
    }
  }
}
