/**
 * The default OutboundBuilder: turns a tick's reply/DM/note intents into signed events and outbox
 * targets with the pure protocol modules. A NIP-17 DM becomes one gift wrap per recipient plus one
 * to the agent itself (its other clients see what it sent); NIP-04 gets NIP-04; mentions get a
 * kind 1 reply threaded with NIP-10 markers.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import type { EventTemplate } from '../protocol/event.js';
import { Kind } from '../protocol/kinds.js';
import { createReplyTags } from '../protocol/nip10.js';
import { createChatRumor, wrapForRecipients } from '../protocol/nip17.js';
import type { InboundMessage, OutgoingEvent } from '../relay/types.js';
import type { Signer } from '../signer/types.js';
import type { OutboundBuilder, OutboundEntropy, OutboundIntent } from './types.js';

/** Fresh entropy from the platform CSPRNG at unix time `now`. */
export function systemEntropy(now: number): OutboundEntropy {
  return {
    now,
    random: () => crypto.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32,
    newWrapKey: () => schnorr.utils.randomSecretKey(),
  };
}

function nip17(signer: Signer, recipients: string[], text: string, entropy: OutboundEntropy, replyTo?: { id: string; relay?: string }, subject?: string): OutgoingEvent[] {
  const self = signer.getPublicKey();
  const others = [...new Set(recipients)].filter((p) => p !== self);
  const rumor = createChatRumor(self, { recipients: others, content: text, createdAt: entropy.now, ...(replyTo ? { replyTo } : {}), ...(subject !== undefined ? { subject } : {}) });
  const wraps = wrapForRecipients(rumor, signer, others, entropy, true);
  // wrapForRecipients wraps to each recipient in order, then to the sender (published to its own relays).
  return wraps.map((event, i) => ({ event, target: i < others.length ? { type: 'dm', recipient: others[i] as string } : { type: 'own' } }));
}

function noteReplyTags(to: InboundMessage, self: string): string[][] {
  const { parentId, rootId, relay = '', parentEvent } = to.replyTo;
  // With the parent's own tags, NIP-10 threading is exact (root carried over, every p kept).
  if (parentEvent) return createReplyTags(parentEvent, self, relay);
  const tags: string[][] = [];
  if (rootId && rootId !== parentId) {
    tags.push(['e', rootId, '', 'root']);
    tags.push(['e', parentId, relay, 'reply', to.sender]);
  } else {
    tags.push(['e', parentId, relay, 'root', to.sender]);
  }
  for (const p of new Set([to.sender, ...to.replyTo.participants])) if (p !== self) tags.push(['p', p]);
  return tags;
}

function reply(to: InboundMessage, text: string, signer: Signer, entropy: OutboundEntropy): OutgoingEvent[] {
  const self = signer.getPublicKey();
  if (to.protocol === 'nip17') {
    const recipients = [to.sender, ...to.replyTo.participants];
    const subject = to.subject;
    return nip17(signer, recipients, text, entropy, { id: to.rumorId ?? to.replyTo.parentId, ...(to.replyTo.relay ? { relay: to.replyTo.relay } : {}) }, subject);
  }
  if (to.protocol === 'nip04') {
    const template: EventTemplate = {
      kind: Kind.EncryptedDirectMessage,
      created_at: entropy.now,
      tags: [['p', to.sender], ['e', to.replyTo.parentId]],
      content: signer.nip04.encrypt(to.sender, text),
    };
    return [{ event: signer.signEvent(template), target: { type: 'dm', recipient: to.sender } }];
  }
  const template: EventTemplate = { kind: Kind.TextNote, created_at: entropy.now, tags: noteReplyTags(to, self), content: text };
  return [{ event: signer.signEvent(template), target: { type: 'own' } }];
}

/** NIP-17 / NIP-04 / NIP-10 outgoing events from intents. */
export const protocolOutboundBuilder: OutboundBuilder = {
  build(intent: OutboundIntent, signer: Signer, entropy: OutboundEntropy): OutgoingEvent[] {
    switch (intent.type) {
      case 'reply':
        return reply(intent.to, intent.text, signer, entropy);
      case 'dm':
        return nip17(signer, [intent.recipient], intent.text, entropy, intent.replyTo, intent.subject);
      case 'note':
        return [{ event: signer.signEvent({ kind: Kind.TextNote, created_at: entropy.now, tags: [], content: intent.text }), target: { type: 'own' } }];
    }
  },
};
