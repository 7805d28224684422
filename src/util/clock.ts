/** The Clock seam: time comes in as a parameter so tests can run on a manual clock. */
import { CodedError } from './errors.js';

/** Milliseconds since the epoch, and an abortable sleep. */
export interface Clock {
  now(): number;
  sleep(ms: number, options?: { signal?: AbortSignal }): Promise<void>;
}

/** An error thrown by an aborted sleep (its cause is the signal's reason). */
export class AbortError extends CodedError {
  override name = 'AbortError';
  constructor(message: string, options?: ErrorOptions) {
    super('ABORTED', message, options);
  }
}

/**
 * The reason to give `abort()` on a controller that only cancels a sleep (a publish answered, a
 * loop kicked, a timer disarmed): without one, each call builds a DOMException with its stack.
 */
export const CANCELLED = 'cancelled';

/**
 * What a sleep cancelled with CANCELLED rejects with: one error for all of them. Its callers drop it
 * (a loop woken early goes round again), and building one per wake-up, stack trace and all, was ~1 %
 * of a busy daemon's CPU (the outbox loop is woken after every transaction that queues rows).
 */
const CANCELLED_SLEEP = new AbortError('sleep cancelled', { cause: CANCELLED });

/** Real time. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, options) =>
    new Promise<void>((resolve, reject) => {
      const signal = options?.signal;
      if (signal?.aborted) return reject(new AbortError('aborted', { cause: signal.reason }));
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason === CANCELLED ? CANCELLED_SLEEP : new AbortError('aborted', { cause: signal?.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** A clock that only moves when told to; sleepers wake as `advance` passes their deadline. */
export class ManualClock implements Clock {
  #now: number;
  #sleepers: Array<{ at: number; resolve: () => void }> = [];

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, options?: { signal?: AbortSignal }): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const signal = options?.signal;
      if (signal?.aborted) return reject(new AbortError('aborted', { cause: signal.reason }));
      const sleeper = { at: this.#now + Math.max(0, ms), resolve };
      this.#sleepers.push(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
          reject(new AbortError('aborted', { cause: signal.reason }));
        },
        { once: true },
      );
    });
  }

  /** Moves time forward and wakes every sleeper whose deadline has passed, in deadline order. */
  async advance(ms: number): Promise<void> {
    this.#now += ms;
    const due = this.#sleepers.filter((s) => s.at <= this.#now).sort((a, b) => a.at - b.at);
    this.#sleepers = this.#sleepers.filter((s) => s.at > this.#now);
    for (const s of due) s.resolve();
    await new Promise((r) => setImmediate(r));
  }
}
