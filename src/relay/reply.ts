/**
 * Builders for what an agent sends: a reply in the protocol the message came by (NIP-17 wrapped to
 * every participant and to the agent itself; NIP-04 kind 4; kind 1 with NIP-10 markers), and a fresh
 * NIP-17 DM. Each returns signed events with their outbox target; nothing is sent here. A text too
 * long for one event becomes several (reply-parts.ts), each within MAX_EVENT_BYTES and NIP-44's
 * limits; tags that leave no room for text (a huge subject or relay hint, a crowd of participants,
 * all chosen by whoever wrote to the agent) are an InputError, so the tick refuses the trigger.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { signedEventBytes, type EventTemplate, type NostrEvent } from '../protocol/event.js';
import { Kind } from '../protocol/kinds.js';
import * as nip04 from '../protocol/nip04.js';
import { createReplyTags } from '../protocol/nip10.js';
import { createChatRumor, wrapForRecipients, type WrapEntropy } from '../protocol/nip17.js';
import { maxRumorBytes, type Rumor, type SealSigner } from '../protocol/nip59.js';
import type { Signer } from '../signer/types.js';
import { CodedError, InputError } from '../util/errors.js';
import { MAX_EVENT_BYTES, MAX_REPLY_PARTS, splitText } from './reply-parts.js';
import type { InboundMessage, OutgoingEvent } from './types.js';

const encoder = new TextEncoder();
const utf8Bytes = (text: string): number => encoder.encode(text).length;

/** The least room for text a message must leave; tags taking more than the rest make it unanswerable. */
const MIN_TEXT_BUDGET = 1024;

/** The most recipients one message goes to: a bigger room is refused, so one DM cannot make the agent sign hundreds of wraps. */
export const MAX_ROOM_RECIPIENTS = 100;

/** Parts of `text` within `budget`, or an InputError when the message's own tags leave too little room. */
function partsOf(text: string, budget: number, cost: 'json' | 'utf8', what: string): string[] {
  if (budget < MIN_TEXT_BUDGET) throw new InputError('INPUT_TOO_LARGE', `${what}: its tags leave ${Math.max(0, budget)} bytes for text (at least ${MIN_TEXT_BUDGET} needed)`);
  return splitText(text, budget, cost, MAX_REPLY_PARTS);
}

/** Dates parts one second apart, the last at `at`, so clients order them by `created_at`. */
const partTime = (at: number, index: number, count: number): number => at - (count - 1 - index);

/** Signs one plaintext event per part with the same tags. */
function plainParts(signer: Signer, kind: number, at: number, tags: string[][], text: string, content: (part: string) => string, cost: 'json' | 'utf8'): OutgoingEvent['event'][] {
  const overhead = signedEventBytes({ kind, created_at: at, tags, content: '' });
  const budget = cost === 'json' ? MAX_EVENT_BYTES - overhead : nip04.maxTextBytes(MAX_EVENT_BYTES - overhead);
  const parts = partsOf(text, budget, cost, `a kind ${kind} reply`);
  return parts.map((part, i) => {
    const template: EventTemplate = { kind, created_at: partTime(at, i, parts.length), tags, content: content(part) };
    return signer.signEvent(template);
  });
}

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

/** A NIP-17 message before wrapping: its rumors (one per part, in order), who they go to, the entropy to wrap them with. */
export interface DirectMessagePlan {
  rumors: Rumor[];
  /** Every recipient but the sender, in order. */
  recipients: string[];
  entropy: WrapEntropy;
}

/** Splits `text` into the rumors of a NIP-17 message (checks as `buildDirectMessage`); nothing is signed. */
export function planDirectMessage(me: string, recipient: string, text: string, options: DirectMessageOptions = {}, entropy?: ReplyEntropy): DirectMessagePlan {
  const e = entropyOf(entropy);
  const recipients = [...new Set([recipient, ...(options.cc ?? [])])].filter((p) => p !== me);
  if (recipients.length === 0) throw new Error('a direct message needs a recipient other than the sender');
  if (recipients.length > MAX_ROOM_RECIPIENTS) throw new InputError('INPUT_TOO_LARGE', `a direct message to ${recipients.length} recipients (at most ${MAX_ROOM_RECIPIENTS})`);
  const at = options.createdAt ?? e.now;
  const rumorOf = (content: string, createdAt: number) => createChatRumor(me, { recipients, content, subject: options.subject, replyTo: options.replyTo, createdAt });
  // The seal and wrap are dated at or before e.now (backdated), so e.now bounds their sizes.
  const overhead = utf8Bytes(JSON.stringify(rumorOf('', at)));
  const parts = partsOf(text, maxRumorBytes(e.now, MAX_EVENT_BYTES) - overhead, 'json', 'a NIP-17 message');
  // A message dated in advance (a delegation) is known by its rumor id: it must go as one part.
  if (options.createdAt !== undefined && parts.length > 1) throw new CodedError('BEHAVIOR_FAILED', `a direct message dated in advance must fit one gift wrap; this one needs ${parts.length}`, { permanent: true });
  return { rumors: parts.map((part, p) => rumorOf(part, partTime(at, p, parts.length))), recipients, entropy: e };
}

/** The wraps of a planned message to its recipients: every part, in order, once per recipient. */
export function wrapToRecipients(plan: DirectMessagePlan, sender: SealSigner): { event: NostrEvent; recipient: string }[] {
  return plan.rumors.flatMap((rumor) => wrapForRecipients(rumor, sender, plan.recipients, plan.entropy, false).map((event, i) => ({ event, recipient: plan.recipients[i] as string })));
}

/**
 * NIP-17's copy of every part to the sender itself, so its other clients see what it said. Kept
 * apart from the recipients' wraps because no one waits for it: the agent's go out as background
 * rows (target `own`), the owner's a turn after the wraps to the agent (OwnerChat).
 */
export function wrapOwnCopies(plan: DirectMessagePlan, sender: SealSigner): NostrEvent[] {
  return plan.rumors.flatMap((rumor) => wrapForRecipients(rumor, sender, [sender.getPublicKey()], plan.entropy, false));
}

/**
 * A NIP-17 DM from the agent: one wrap per recipient (target `dm`) and one to the agent itself
 * (target `own`), all carrying the same rumor.
 */
export function buildDirectMessage(signer: Signer, recipient: string, text: string, options: DirectMessageOptions = {}, entropy?: ReplyEntropy): OutgoingEvent[] {
  const plan = planDirectMessage(signer.getPublicKey(), recipient, text, options, entropy);
  return [
    ...wrapToRecipients(plan, signer).map(({ event, recipient: to }): OutgoingEvent => ({ event, target: { type: 'dm', recipient: to } })),
    ...wrapOwnCopies(plan, signer).map((event): OutgoingEvent => ({ event, target: { type: 'own' } })),
  ];
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
      const tags = [['p', message.sender], ['e', message.replyTo.parentId, relay, 'reply']];
      const events = plainParts(signer, Kind.EncryptedDirectMessage, e.now, tags, text, (part) => signer.nip04.encrypt(message.sender, part), 'utf8');
      return events.map((event) => ({ event, target: { type: 'dm', recipient: message.sender } }));
    }
    case 'note': {
      const parent = message.replyTo.parentEvent ?? { id: message.replyTo.parentId, pubkey: message.sender, tags: [] };
      const events = plainParts(signer, Kind.TextNote, e.now, createReplyTags(parent, me, relay), text, (part) => part, 'json');
      return events.map((event) => ({ event, target: message.relay ? { type: 'relays', relays: [message.relay] } : { type: 'own' } }));
    }
  }
}

/** A kind 1 note of the agent's own (several when the text is long), sent to its own relays. */
export function buildNote(signer: Signer, text: string, entropy?: ReplyEntropy): OutgoingEvent[] {
  const e = entropyOf(entropy);
  return plainParts(signer, Kind.TextNote, e.now, [], text, (part) => part, 'json').map((event) => ({ event, target: { type: 'own' } }));
}
