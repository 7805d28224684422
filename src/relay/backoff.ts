/** Exponential backoff with jitter, as a pure function so tests can pin both the schedule and the dice. */

/** How reconnects and retries space out. Defaults: 500 ms doubling to 60 s, ±50% jitter. */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** Fraction of the delay that is randomized (0 = none, 1 = "full jitter"). */
  jitter?: number;
}

/** The delay before attempt `attempt` (0-based): `min(max, initial·factor^attempt)`, minus up to `jitter` of it at random. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialMs ?? 500;
  const max = options.maxMs ?? 60_000;
  const factor = options.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  const base = Math.min(max, initial * factor ** Math.min(attempt, 64));
  return Math.round(base * (1 - jitter * random()));
}
