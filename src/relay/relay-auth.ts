/**
 * NIP-42 on one connection. A relay authenticates one pubkey per AUTH event and may accept several on
 * the same connection (relay-dev), so every hosted agent's key answers the challenge: one subscription
 * is then served gift wraps and kind 4 addressed to any of them. Many relays (strfry, nostr-rs-relay)
 * accept only one key per connection: a key refused while another was accepted teaches the connection
 * that limit, and from then on it authenticates only as many keys as the relay takes (the others need
 * a connection of their own: see WsRelayPool.lane).
 *
 * A challenge alone is not a request: keys answer it only once the relay has shown it wants AUTH (its
 * NIP-11 restricts reads or all access, or it refused something with `auth-required:`), so a relay that
 * serves everything without AUTH costs no signatures (and no derived secret keys). Thousands of hosted
 * keys are answered in batches, one batch per event-loop turn, so the daemon keeps serving meanwhile;
 * restricted REQs wait until the last batch is answered, then go out once.
 */
import type { EventTemplate, NostrEvent } from '../protocol/event.js';
import { createAuthTemplate } from '../protocol/nip42.js';
import { rejectionPrefix } from '../protocol/schema.js';
import { CANCELLED, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { sleepLinked } from '../util/linked-signal.js';

/** What AUTH needs of a key (a Signer fits). */
export interface AuthSigner {
  getPublicKey(): string;
  signEvent(template: EventTemplate): NostrEvent;
}

/** Wiring of the auth state to its connection. */
export interface RelayAuthOptions {
  url: string;
  signers: () => Iterable<AuthSigner>;
  /** Unix seconds. */
  now: () => number;
  clock: Clock;
  send: (event: NostrEvent) => boolean;
  logger: Logger;
  /** Called when every AUTH in flight has been answered (to re-send subscriptions refused for auth). */
  onAuthenticated: () => void;
  /** Keys per connection the relay has shown it accepts (kept by the connection across reconnects). */
  keyLimit: () => number | undefined;
  /** The relay refused a key while it had accepted `accepted` others on this connection. */
  onKeyLimit: (accepted: number) => void;
  /** Whether the relay has shown it wants AUTH, so a challenge is answered at once [always]. */
  wanted?: () => boolean;
  /** AUTH events signed and sent per event-loop turn [AUTH_BATCH]. */
  batchSize?: number;
}

/** AUTH events signed per event-loop turn: 50 signatures (and as many key derivations) take ~10–25 ms. */
export const AUTH_BATCH = 50;

/** Refusals about the key or the event itself, not about how many keys the connection holds. */
const ABOUT_THE_KEY = new Set(['restricted', 'blocked', 'invalid']);

/** Challenge, accepted keys and AUTH events in flight for the current connection. */
export class RelayAuth {
  readonly #o: RelayAuthOptions;
  #challenge: string | undefined;
  readonly #authed = new Set<string>();
  readonly #inFlight = new Map<string, string>();
  /** Keys to authenticate in the next batches (the challenge they answer is the current one). */
  readonly #queue = new Map<string, AuthSigner>();
  #draining = false;
  /** Keys refused this round for a reason that another connection might not give. */
  readonly #refusedBeside = new Set<string>();
  #epoch = 0;
  #waiters: Array<() => void> = [];
  #challengeWaiters: Array<() => void> = [];

  constructor(options: RelayAuthOptions) {
    this.#o = options;
  }

  /** Pubkeys the relay accepted on this connection. */
  authenticated(): string[] {
    return [...this.#authed];
  }

  /** Grows by one each time a key is accepted (a REQ sent at an older epoch may have been answered for fewer keys). */
  get epoch(): number {
    return this.#epoch;
  }

  /** True while AUTH events await their OK or wait for their batch. */
  inFlight(): boolean {
    return this.#inFlight.size > 0 || this.#queue.size > 0;
  }

  /** True once the relay has sent a challenge on this connection. */
  hasChallenge(): boolean {
    return this.#challenge !== undefined;
  }

  /** True while AUTH may still change what the relay serves: keys to offer, and no challenge yet or AUTH under way. */
  mayStillSucceed(): boolean {
    if (!this.#hasKeys()) return false;
    return this.#challenge === undefined || this.inFlight();
  }

  #hasKeys(): boolean {
    if (this.#o.keyLimit() === 0) return false;
    for (const _ of this.#o.signers()) return true;
    return false;
  }

  /** The keys this connection authenticates: every signer, or only the first ones when the relay limits keys per connection. */
  keys(): AuthSigner[] {
    const all = [...this.#o.signers()];
    const limit = this.#o.keyLimit();
    return limit === undefined ? all : all.slice(0, limit);
  }

  /** A new challenge: remembered; answered with every key not yet accepted once the relay wants AUTH. */
  onChallenge(challenge: string): void {
    this.#challenge = challenge;
    this.#queue.clear();
    for (const wake of this.#challengeWaiters.splice(0)) wake();
    if (this.#o.wanted?.() ?? true) this.authenticate(this.keys());
  }

  /**
   * Queues AUTH for each key that is neither accepted nor in flight (no-op before a challenge): the first
   * batch is signed and sent now, the rest one batch per event-loop turn.
   */
  authenticate(signers: Iterable<AuthSigner>): void {
    if (this.#challenge === undefined) return;
    const limit = this.#o.keyLimit();
    const allowed = limit === undefined ? undefined : new Set(this.keys().map((s) => s.getPublicKey()));
    const busy = new Set(this.#inFlight.values());
    for (const signer of signers) {
      const pubkey = signer.getPublicKey();
      if ((allowed && !allowed.has(pubkey)) || this.#authed.has(pubkey) || busy.has(pubkey)) continue;
      this.#queue.set(pubkey, signer);
    }
    this.#drain();
  }

  /** Signs and sends one batch of queued AUTH events; schedules the next batch while keys remain. */
  #drain(): void {
    const challenge = this.#challenge;
    if (challenge === undefined) return this.#queue.clear();
    let sent = 0;
    for (const [pubkey, signer] of this.#queue) {
      if (sent >= (this.#o.batchSize ?? AUTH_BATCH)) break;
      this.#queue.delete(pubkey);
      const event = signer.signEvent(createAuthTemplate(this.#o.url, challenge, this.#o.now()));
      if (!this.#o.send(event)) {
        // The socket is gone: a new connection brings a new challenge and starts over.
        this.#queue.clear();
        break;
      }
      this.#inFlight.set(event.id, pubkey);
      sent++;
    }
    if (this.#queue.size === 0 || this.#draining) return;
    this.#draining = true;
    setImmediate(() => {
      this.#draining = false;
      this.#drain();
    });
  }

  /**
   * Something was refused with `auth-required:`. Returns true when `onAuthenticated` will follow
   * (AUTH is in flight, or already done and the refusal raced it, or a challenge may still come),
   * false when AUTH cannot help.
   */
  request(): boolean {
    if (!this.#hasKeys()) return false;
    if (this.#challenge === undefined) return true; // the challenge's arrival triggers AUTH
    this.authenticate(this.keys());
    if (this.inFlight()) return true;
    if (this.#authed.size === 0) return false;
    queueMicrotask(() => this.#o.onAuthenticated());
    return true;
  }

  /**
   * For a publish refused with `auth-required:`: waits up to `waitMs` for a challenge if none came yet
   * (some relays send it with the refusal), authenticates, and resolves true if any key was accepted.
   */
  async ensure(waitMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#challenge === undefined && this.#hasKeys()) await this.#wait(this.#challengeWaiters, waitMs, signal);
    if (this.#challenge === undefined) return false;
    this.authenticate(this.keys());
    await this.settled(waitMs, signal);
    return this.#authed.size > 0;
  }

  /** Resolves once no AUTH is in flight (or after `waitMs`). */
  async settled(waitMs: number, signal?: AbortSignal): Promise<void> {
    if (this.inFlight()) await this.#wait(this.#waiters, waitMs, signal);
  }

  /** Handles an OK; returns true when it answered one of our AUTH events. */
  onOk(id: string, ok: boolean, message: string): boolean {
    const pubkey = this.#inFlight.get(id);
    if (pubkey === undefined) return false;
    this.#inFlight.delete(id);
    if (ok) {
      this.#authed.add(pubkey);
      this.#epoch++;
    } else if (!ABOUT_THE_KEY.has(rejectionPrefix(message) ?? '')) {
      this.#refusedBeside.add(pubkey);
      this.#o.logger.log({ level: 'debug', ns: 'relay', msg: 'AUTH refused', relay: this.#o.url, pubkey, reason: message.slice(0, 200) });
    } else {
      this.#o.logger.log({ level: 'warn', ns: 'relay', msg: 'AUTH refused', relay: this.#o.url, pubkey, reason: message.slice(0, 200) });
    }
    if (this.#inFlight.size === 0 && this.#queue.size === 0) this.#settle();
    return true;
  }

  /** Every AUTH of the round is answered. */
  #settle(): void {
    if (this.#refusedBeside.size > 0 && this.#authed.size > 0) this.#o.onKeyLimit(this.#authed.size);
    this.#refusedBeside.clear();
    for (const w of this.#waiters.splice(0)) w();
    this.#o.onAuthenticated();
  }

  /** The connection dropped: a new one needs a new challenge and new AUTH events. */
  reset(): void {
    this.#challenge = undefined;
    this.#authed.clear();
    this.#inFlight.clear();
    this.#queue.clear();
    this.#refusedBeside.clear();
    this.#epoch = 0;
    for (const w of this.#waiters.splice(0)) w();
  }

  #wait(list: Array<() => void>, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const stop = new AbortController();
      const done = (): void => {
        stop.abort(CANCELLED);
        resolve();
      };
      list.push(done);
      sleepLinked(this.#o.clock, ms, stop.signal, signal).then(done, done);
    });
  }
}
