/**
 * NIP-42 on one connection. A relay authenticates one pubkey per AUTH event but may accept several
 * on the same connection, so every hosted agent's key answers the challenge: one subscription can
 * then be served gift wraps and kind 4 addressed to any of them.
 */
import type { EventTemplate, NostrEvent } from '../protocol/event.js';
import { createAuthTemplate } from '../protocol/nip42.js';
import type { Logger } from '../util/logger.js';

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
  send: (event: NostrEvent) => boolean;
  logger: Logger;
  /** Called when every AUTH in flight has been answered (to re-send subscriptions refused for auth). */
  onAuthenticated: () => void;
}

/** Challenge, accepted keys and AUTH events in flight for the current connection. */
export class RelayAuth {
  readonly #o: RelayAuthOptions;
  #challenge: string | undefined;
  readonly #authed = new Set<string>();
  readonly #inFlight = new Map<string, string>();
  #waiters: Array<() => void> = [];

  constructor(options: RelayAuthOptions) {
    this.#o = options;
  }

  /** Pubkeys the relay accepted on this connection. */
  authenticated(): string[] {
    return [...this.#authed];
  }

  /** A new challenge: answer it with every key not yet accepted. */
  onChallenge(challenge: string): void {
    this.#challenge = challenge;
    this.authenticate(this.#o.signers());
  }

  /** Sends AUTH for each key that is neither accepted nor in flight (no-op before a challenge). */
  authenticate(signers: Iterable<AuthSigner>): void {
    const challenge = this.#challenge;
    if (challenge === undefined) return;
    const busy = new Set(this.#inFlight.values());
    for (const signer of signers) {
      const pubkey = signer.getPublicKey();
      if (this.#authed.has(pubkey) || busy.has(pubkey)) continue;
      const event = signer.signEvent(createAuthTemplate(this.#o.url, challenge, this.#o.now()));
      if (!this.#o.send(event)) return;
      this.#inFlight.set(event.id, pubkey);
      busy.add(pubkey);
    }
  }

  /**
   * Something was refused with `auth-required:`. Returns true when `onAuthenticated` will follow
   * (AUTH is in flight, or already done and the refusal raced it), false when AUTH cannot help.
   */
  request(): boolean {
    if (this.#challenge === undefined) return true; // the challenge's arrival triggers AUTH
    this.authenticate(this.#o.signers());
    if (this.#inFlight.size > 0) return true;
    if (this.#authed.size === 0) return false;
    queueMicrotask(() => this.#o.onAuthenticated());
    return true;
  }

  /** For a publish refused with `auth-required:`: authenticates and resolves true if any key was accepted. */
  async ensure(signal?: AbortSignal): Promise<boolean> {
    if (this.#challenge === undefined) return false;
    this.authenticate(this.#o.signers());
    if (this.#inFlight.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    return this.#authed.size > 0;
  }

  /** Handles an OK; returns true when it answered one of our AUTH events. */
  onOk(id: string, ok: boolean, message: string): boolean {
    const pubkey = this.#inFlight.get(id);
    if (pubkey === undefined) return false;
    this.#inFlight.delete(id);
    if (ok) this.#authed.add(pubkey);
    else this.#o.logger.log({ level: 'warn', ns: 'relay', msg: 'AUTH refused', relay: this.#o.url, pubkey, reason: message.slice(0, 200) });
    if (this.#inFlight.size === 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
      this.#o.onAuthenticated();
    }
    return true;
  }

  /** The connection dropped: a new one needs a new challenge and new AUTH events. */
  reset(): void {
    this.#challenge = undefined;
    this.#authed.clear();
    this.#inFlight.clear();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
