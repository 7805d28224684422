/**
 * A Signer backed by a secret key held in memory.
 * Conversation keys are cached per peer: ECDH is the expensive half of NIP-44 and an agent talks
 * to the same few peers over and over. A key first met in a decryption is kept only once it is used
 * again: every gift wrap is encrypted from a one-off key, and caching those filled the map with keys
 * never used twice (up to CACHE_LIMIT of them per signer, ~150 bytes each, in every signer a daemon
 * keeps), where the seal's author (the peer) is used again at once by the reply. The public key is derived once and passed to each signature
 * (`signEventAs`), so signing costs one base-point multiplication less than a one-call sign.
 */
import { getPublicKey, signEventAs } from '../protocol/crypto.js';
import type { EventTemplate, NostrEvent } from '../protocol/event.js';
import * as nip04 from '../protocol/nip04.js';
import * as nip44 from '../protocol/nip44.js';
import type { Signer } from './types.js';

const CACHE_LIMIT = 1024;
/** Peers met once in a decryption, remembered (the key string only) so a second use caches their key. */
const ONCE_LIMIT = 64;

/** Signs with a 32-byte secret key; `toJSON` and inspection never reveal it. */
export class SecretKeySigner implements Signer {
  readonly #secretKey: Uint8Array;
  readonly #publicKey: string;
  readonly #conversationKeys = new Map<string, Uint8Array>();
  /** The last key computed for a decryption and not cached (a reply to that peer takes it). */
  #probation: { peer: string; key: Uint8Array } | undefined;
  readonly #once = new Set<string>();

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
    encrypt: (peer: string, plaintext: string): string => nip44.encrypt(plaintext, this.#conversationKey(peer, true)),
    decrypt: (peer: string, payload: string): string => nip44.decrypt(payload, this.#conversationKey(peer, false)),
  };

  readonly nip04 = {
    encrypt: (peer: string, plaintext: string): string => nip04.encrypt(this.#secretKey, peer, plaintext),
    decrypt: (peer: string, payload: string): string => nip04.decrypt(this.#secretKey, peer, payload),
  };

  /** How many conversation keys are cached now (tests: the one-off keys of gift wraps are not). */
  get cachedConversationKeys(): number {
    return this.#conversationKeys.size;
  }

  /** The key with `peer`: cached on an encryption, or on the second decryption with the same peer. */
  #conversationKey(peer: string, encrypting: boolean): Uint8Array {
    const cached = this.#conversationKeys.get(peer);
    if (cached) return cached;
    const kept = this.#probation?.peer === peer ? this.#probation.key : undefined;
    if (kept) this.#probation = undefined;
    const key = kept ?? nip44.getConversationKey(this.#secretKey, peer);
    // A decryption with a peer not met before (a gift wrap's one-off key, or a new peer): not cached yet.
    if (!encrypting && !kept && !this.#once.has(peer)) {
      if (this.#once.size >= ONCE_LIMIT) this.#once.clear();
      this.#once.add(peer);
      this.#probation = { peer, key };
      return key;
    }
    this.#once.delete(peer);
    if (this.#conversationKeys.size >= CACHE_LIMIT) this.#conversationKeys.clear();
    this.#conversationKeys.set(peer, key);
    return key;
  }

  toJSON(): { publicKey: string } {
    return { publicKey: this.#publicKey };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SecretKeySigner(${this.#publicKey})`;
  }
}
