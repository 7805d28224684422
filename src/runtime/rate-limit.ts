/**
 * Per-sender rate limiting: a token bucket per (agent, sender) key, refilled continuously.
 * A full bucket is the same as no bucket, so buckets that have refilled are dropped: memory stays
 * proportional to the senders active in the last window, not to every sender ever seen.
 */

/** How many messages a sender may send per window. */
export interface RateLimitConfig {
  /** Bucket size: messages allowed in a burst. */
  capacity: number;
  /** Window over which `capacity` tokens refill, in ms. */
  windowMs: number;
}

/** The verdict for one message: allowed, or limited with whether to send the one polite notice. */
export type RateDecision = { allowed: true } | { allowed: false; notify: boolean; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
  /** Until when a "slow down" notice has already been sent (at most one per window). */
  notifiedUntil: number;
}

/** Token buckets keyed by string; time comes from the caller so tests run on a manual clock. */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxKeys: number;

  constructor(options: { maxKeys?: number } = {}) {
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  /** Takes one token for `key` under `config` at time `now` (ms). */
  take(key: string, config: RateLimitConfig, now: number): RateDecision {
    if (config.capacity <= 0 || config.windowMs <= 0) return { allowed: true };
    const perMs = config.capacity / config.windowMs;
    const bucket = this.#buckets.get(key) ?? { tokens: config.capacity, at: now, notifiedUntil: 0 };
    bucket.tokens = Math.min(config.capacity, bucket.tokens + Math.max(0, now - bucket.at) * perMs);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.#buckets.set(key, bucket);
      this.#prune(now, config);
      return { allowed: true };
    }
    const retryAfterMs = Math.ceil((1 - bucket.tokens) / perMs);
    const notify = now >= bucket.notifiedUntil;
    if (notify) bucket.notifiedUntil = now + config.windowMs;
    this.#buckets.set(key, bucket);
    return { allowed: false, notify, retryAfterMs };
  }

  /** How many keys hold a bucket (for tests and memory figures). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Forgets every bucket whose key starts with `prefix` (an agent terminated). */
  forget(prefix: string): void {
    for (const key of this.#buckets.keys()) if (key.startsWith(prefix)) this.#buckets.delete(key);
  }

  #prune(now: number, config: RateLimitConfig): void {
    if (this.#buckets.size <= this.#maxKeys) return;
    for (const [key, b] of this.#buckets) {
      const refilled = b.tokens + (now - b.at) * (config.capacity / config.windowMs) >= config.capacity;
      if (refilled && now >= b.notifiedUntil) this.#buckets.delete(key);
    }
    // Still too many (a flood of distinct senders): drop the oldest half rather than grow without bound.
    if (this.#buckets.size > this.#maxKeys) {
      let drop = Math.floor(this.#buckets.size / 2);
      for (const key of this.#buckets.keys()) {
        if (drop-- <= 0) break;
        this.#buckets.delete(key);
      }
    }
  }
}
