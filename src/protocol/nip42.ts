/** NIP-42: the kind 22242 event a client signs to authenticate to a relay's challenge. */
import type { EventTemplate } from './event.js';
import { Kind } from './kinds.js';

/** The AUTH event template for `relayUrl` and the relay's `challenge`, at `createdAt` (unix s). */
export function createAuthTemplate(relayUrl: string, challenge: string, createdAt: number): EventTemplate {
  return { kind: Kind.ClientAuth, created_at: createdAt, tags: [['relay', relayUrl], ['challenge', challenge]], content: '' };
}
