/**
 * The default OutboundBuilder: turns a tick's reply/DM/note intents into signed events and outbox
 * targets with the messaging layer's pure builders (src/relay/reply.ts). A NIP-17 DM becomes one
 * gift wrap per recipient plus one to the agent itself (its other clients see what it sent); NIP-04
 * gets NIP-04; mentions get a kind 1 reply threaded with NIP-10 markers, sent where the mention came from.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { buildDirectMessage, buildNote, buildReply } from '../relay/reply.js';
import type { OutgoingEvent } from '../relay/types.js';
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

/** NIP-17 / NIP-04 / NIP-10 outgoing events from intents. */
export const protocolOutboundBuilder: OutboundBuilder = {
  build(intent: OutboundIntent, signer: Signer, entropy: OutboundEntropy): OutgoingEvent[] {
    switch (intent.type) {
      case 'reply':
        return buildReply(intent.to, intent.text, signer, entropy);
      case 'dm':
        return buildDirectMessage(
          signer,
          intent.recipient,
          intent.text,
          {
            ...(intent.replyTo ? { replyTo: intent.replyTo } : {}),
            ...(intent.subject !== undefined ? { subject: intent.subject } : {}),
            ...(intent.createdAt !== undefined ? { createdAt: intent.createdAt } : {}),
          },
          entropy,
        );
      case 'note':
        return buildNote(signer, intent.text, entropy);
    }
  },
};
