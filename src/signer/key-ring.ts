/**
 * The agents' keys of one daemon, derived on demand. A daemon hosting thousands of agents needs
 * their public keys at start (subscriptions, names, AUTH offers) but a secret key only when an agent
 * signs, unwraps a gift wrap or answers AUTH: deriving all of them up front cost seconds per thousand
 * agents and kept every secret key in memory. The ring hands out `LazySigner`s built from the public
 * key stored in each agent's row; the first secret operation derives the key (NIP-06, the
 * `m/44'/1237'` node computed once) into a bounded least-recently-used cache. Secret keys live only
 * in that cache, never in the agents' rows, logs or errors.
 */
import type { EventTemplate, NostrEvent } from '../protocol/event.js';
import { Nip06Deriver } from '../protocol/nip06.js';
import { CodedError } from '../util/errors.js';
import { SecretKeySigner } from './secret-key-signer.js';
import type { Signer } from './types.js';

/** A derived key is not the one the agent's row names: the home was created with another mnemonic or passphrase (KEYS_INVALID, permanent). */
export class KeyMismatchError extends CodedError {
  override name = 'KeyMismatchError';

  constructor(readonly agentIndex: number, options?: ErrorOptions) {
    super('KEYS_INVALID', `agent #${agentIndex} was created with another mnemonic or BIP-39 passphrase: its key does not match`, { ...options, permanent: true });
  }
}

/** Options of the ring; the defaults are in brackets. */
export interface KeyRingOptions {
  /** The BIP-39 seed (kept by the deriver as the `m/44'/1237'` node only). */
  seed: Uint8Array;
  /** Derived signers kept at once [512]; an evicted one is derived again on its next use. */
  cacheSize?: number;
}

/** The most signers the cache grows to, whatever is reserved (a derived signer is ~0.5 KiB with its few conversation keys). */
export const MAX_RESERVED_SIGNERS = 16_384;

/** Agent index → signer, deriving each secret key only when it is used. */
export class KeyRing {
  readonly #deriver: Nip06Deriver;
  #limit: number;
  /** How far the cache may grow (see `reserve`). */
  #ceiling: number;
  /** Insertion order is recency: a hit is moved to the end, the first entry is the one evicted. */
  readonly #cache = new Map<number, SecretKeySigner>();
  /** The indexes evicted last (at most `#limit` of them, oldest first): a miss on one says the cache is too small. */
  readonly #evicted = new Set<number>();
  /** Sweeps under way (see `sweep`): while any runs, the cache does not grow. */
  #sweeps = 0;
  #derivations = 0;

  constructor(options: KeyRingOptions) {
    this.#deriver = new Nip06Deriver(options.seed);
    this.#limit = Math.max(1, options.cacheSize ?? 512);
    this.#ceiling = this.#limit;
  }

  /**
   * Lets the cache grow to `count` signers (up to MAX_RESERVED_SIGNERS; the daemon reserves one per
   * agent it knows) when the agents in use need it. A least-recently-used cache smaller than the agents
   * that talk misses on every use when they take turns (1,000 agents each answering a DM in turn through
   * 512 places: every DM derived its key again, three base-point multiplications, and lost the
   * conversation keys with its peer and itself, two ECDHs). It grows by one place each time a key is
   * derived again soon after its eviction (within the last `size` evictions: a working set up to twice
   * the cache), never on a one-off sweep (a start's claims sign once with every agent): a daemon with
   * 10,000 dormant agents keeps the cache it had.
   */
  reserve(count: number): void {
    this.#ceiling = Math.max(this.#ceiling, Math.min(count, MAX_RESERVED_SIGNERS));
  }

  /**
   * Marks a sweep, work that uses every agent about once (a start's claims, its split-brain check),
   * until the returned function is called: meanwhile a key derived again soon after its eviction does
   * not grow the cache. Two sweeps running side by side use each agent twice a few hundred agents
   * apart, which looks like agents taking turns: a start with 10,000 dormant agents grew the cache to
   * all of them (~9 MB of heap, the V8 heap per agent 1.2 → 2.1 KB).
   */
  sweep(): () => void {
    this.#sweeps++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#sweeps--;
    };
  }

  /** How many secret keys were derived so far (a restart's cost; the bench and tests read it). */
  get derivations(): number {
    return this.#derivations;
  }

  /** How many derived signers are held now (at most the cache size). */
  get cached(): number {
    return this.#cache.size;
  }

  /**
   * A signer for agent `index` whose public key is `pubkey` (from its row); nothing is derived yet.
   * Its first secret operation throws KeyMismatchError if the derived key is another one.
   */
  lazy(index: number, pubkey: string): LazySigner {
    return new LazySigner(pubkey, this, index);
  }

  /** The derived signer of agent `index` (cached), checked against `pubkey` when given. */
  signer(index: number, pubkey?: string): SecretKeySigner {
    let signer = this.#cache.get(index);
    if (signer) {
      this.#cache.delete(index);
    } else {
      const key = this.#deriver.derive(index + 1);
      this.#derivations++;
      if (pubkey !== undefined && key.publicKey !== pubkey) {
        key.secretKey.fill(0);
        throw new KeyMismatchError(index);
      }
      signer = new SecretKeySigner(key.secretKey);
      if (this.#evicted.delete(index) && this.#sweeps === 0 && this.#limit < this.#ceiling) this.#limit++;
      if (this.#cache.size >= this.#limit) {
        const oldest = this.#cache.keys().next().value!;
        this.#cache.delete(oldest);
        this.#evicted.add(oldest);
        if (this.#evicted.size > this.#limit) this.#evicted.delete(this.#evicted.keys().next().value!);
      }
    }
    this.#cache.set(index, signer);
    return signer;
  }
}

/**
 * A Signer that knows its public key and borrows the secret from the ring for each operation.
 * Cheap to hold per agent (the key string, the ring and an index; no closure and its context per agent);
 * `toJSON` and inspection show the public key only.
 */
export class LazySigner implements Signer {
  /** The agent's public key (hex, from its row) and index: public, nothing secret. */
  readonly pubkey: string;
  readonly index: number;
  readonly #ring: KeyRing;

  constructor(publicKey: string, ring: KeyRing, index: number) {
    this.pubkey = publicKey;
    this.index = index;
    this.#ring = ring;
  }

  #resolve(): Signer {
    return this.#ring.signer(this.index, this.pubkey);
  }

  getPublicKey(): string {
    return this.pubkey;
  }

  signEvent(template: EventTemplate): NostrEvent {
    return this.#resolve().signEvent(template);
  }

  // Getters, not per-instance objects: a daemon holds one LazySigner per agent, so each stays a few words.
  get nip44(): Signer['nip44'] {
    return this.#resolve().nip44;
  }

  get nip04(): Signer['nip04'] {
    return this.#resolve().nip04;
  }

  toJSON(): { publicKey: string } {
    return { publicKey: this.pubkey };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `LazySigner(${this.pubkey})`;
  }
}
