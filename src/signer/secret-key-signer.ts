/**
 * A Signer backed by a secret key held in memory.
 * Conversation keys are cached per peer: ECDH is the expensive half of NIP-44 and an agent talks
 * to the same few peers over and over. The public key is derived once and passed to each signature
 * (`signEventAs`), so signing costs one base-point multiplication less than a one-call sign.
 */
import { getPublicKey, signEventAs } from '../protocol/crypto.js';
import type { EventTemplate, NostrEvent } from '../protocol/event.js';
import * as nip04 from '../protocol/nip04.js';
import * as nip44 from '../protocol/nip44.js';
import type { Signer } from './types.js';

const CACHE_LIMIT = 1024;

/** Signs with a 32-byte secret key; `toJSON` and inspection never reveal it. */
export class SecretKeySigner implements Signer {
  readonly #secretKey: Uint8Array;
  readonly #publicKey: string;
  readonly #conversationKeys = new Map<string, Uint8Array>();

  constructor(secretKey: Uint8Array) {
    if (secretKey.length !== 32) throw new Error('a secret key is 32 bytes');
    this.#secretKey = secretKey;
    // Flattened: the hex comes back as a chain of ~30 cons strings (about 1 KiB of heap each), and the
    // key ring keeps hundreds of signers.
    this.#publicKey = Buffer.from(getPublicKey(secretKey), 'hex').toString('hex');
  }

  getPublicKey(): string {
    return this.#publicKey;
  }

  signEvent(template: EventTemplate): NostrEvent {
    return signEventAs(template, this.#secretKey, this.#publicKey);
  }

  readonly nip44 = {
    encrypt: (peer: string, plaintext: string): string => nip44.encrypt(plaintext, this.#conversationKey(peer)),
    decrypt: (peer: string, payload: string): string => nip44.decrypt(payload, this.#conversationKey(peer)),
  };

  readonly nip04 = {
    encrypt: (peer: string, plaintext: string): string => nip04.encrypt(this.#secretKey, peer, plaintext),
    decrypt: (peer: string, payload: string): string => nip04.decrypt(this.#secretKey, peer, payload),
  };

  #conversationKey(peer: string): Uint8Array {
    let key = this.#conversationKeys.get(peer);
    if (!key) {
      key = nip44.getConversationKey(this.#secretKey, peer);
      if (this.#conversationKeys.size >= CACHE_LIMIT) this.#conversationKeys.clear();
      this.#conversationKeys.set(peer, key);
    }
    return key;
  }

  toJSON(): { publicKey: string } {
    return { publicKey: this.#publicKey };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SecretKeySigner(${this.#publicKey})`;
  }
}
