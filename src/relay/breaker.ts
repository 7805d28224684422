/**
 * A circuit breaker per relay, with a health score. Failures (a connection attempt that fails or
 * drops, a publish that times out or finds no socket, a relay `error:` or `rate-limited:`) count in
 * a row; work the relay answers (an OK of any kind, an EOSE) resets them. After `threshold` in a row
 * the breaker opens for a backoff that grows with each opening; while open, the pool routes short
 * REQs and publishes to the other relays (never dropping all of them). Past the backoff it is
 * half-open: the next use is a probe, and its outcome closes or reopens it. The score (0..1) is an
 * exponentially weighted average of outcomes, for operators and metrics.
 */
import type { Clock } from '../util/clock.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';

/** `closed`: in use; `open`: skipped until `retryAt`; `half-open`: the next use decides. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** A read-only view of one relay's breaker (`agent status`, metrics). */
export interface BreakerSnapshot {
  url: string;
  state: BreakerState;
  /** 1 = every recent outcome good, 0 = every recent outcome bad. */
  score: number;
  consecutiveFailures: number;
  /** Times it opened since it was last closed by a success. */
  opens: number;
  /** ms epoch: while open, when the relay is tried again. */
  retryAt?: number;
  lastFailure?: string;
}

/** Defaults: opens after 3 failures in a row; backoff 5 s doubling to 5 min, ±20% jitter. */
export interface BreakerOptions {
  threshold?: number;
  backoff?: BackoffOptions;
  random?: () => number;
}

const WEIGHT = 0.2;

/** One relay's breaker. */
export class RelayBreaker {
  readonly url: string;
  readonly #o: BreakerOptions;
  readonly #clock: Clock;
  #failures = 0;
  #opens = 0;
  #score = 1;
  #retryAt: number | undefined;
  #lastFailure: string | undefined;

  constructor(url: string, clock: Clock, options: BreakerOptions = {}) {
    this.url = url;
    this.#clock = clock;
    this.#o = options;
  }

  /** The relay did work: closes the breaker. */
  success(): void {
    this.#score += (1 - this.#score) * WEIGHT;
    this.#failures = 0;
    this.#opens = 0;
    this.#retryAt = undefined;
  }

  /** The relay failed; opens the breaker after `threshold` in a row (again at once when half-open). */
  failure(reason: string): void {
    this.#score -= this.#score * WEIGHT;
    this.#lastFailure = reason.slice(0, 200);
    const halfOpen = this.state() === 'half-open';
    this.#failures++;
    if (this.#retryAt !== undefined && !halfOpen) return; // already open: the running backoff stands
    if (!halfOpen && this.#failures < (this.#o.threshold ?? 3)) return;
    const delay = backoffDelay(this.#opens, { initialMs: 5000, maxMs: 300_000, jitter: 0.2, ...this.#o.backoff }, this.#o.random);
    this.#opens++;
    this.#retryAt = this.#clock.now() + delay;
  }

  state(): BreakerState {
    if (this.#retryAt === undefined) return 'closed';
    return this.#clock.now() < this.#retryAt ? 'open' : 'half-open';
  }

  /** False only while open (half-open lets the probe through). */
  allows(): boolean {
    return this.state() !== 'open';
  }

  snapshot(): BreakerSnapshot {
    const s: BreakerSnapshot = { url: this.url, state: this.state(), score: Math.round(this.#score * 1000) / 1000, consecutiveFailures: this.#failures, opens: this.#opens };
    if (this.#retryAt !== undefined) s.retryAt = this.#retryAt;
    if (this.#lastFailure !== undefined) s.lastFailure = this.#lastFailure;
    return s;
  }
}
