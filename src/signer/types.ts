/** The Signer seam: everything that needs a private key goes through this, so keys never travel. */
import type { EventTemplate, NostrEvent } from '../protocol/event.js';

/** Signs events and does NIP-44 for one key. Implementations never expose the secret. */
export interface Signer {
  getPublicKey(): string;
  signEvent(template: EventTemplate): NostrEvent;
  nip44: {
    encrypt(peerPublicKey: string, plaintext: string): string;
    decrypt(peerPublicKey: string, payload: string): string;
  };
  nip04: {
    encrypt(peerPublicKey: string, plaintext: string): string;
    decrypt(peerPublicKey: string, payload: string): string;
  };
}
