/** When and how long to wait before retrying an LLM call: 429/5xx, Retry-After, exponential backoff. */

/** Statuses worth retrying: rate limits, timeouts at a proxy, and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * The wait a server asked for, in ms: `retry-after-ms` (OpenAI), or `Retry-After` as seconds or
 * an HTTP date (RFC 9110 §10.2.3). Undefined when absent or unreadable; never negative.
 */
export function parseRetryAfter(headers: Headers, now: number): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Backoff settings; the defaults suit a hosted API (0.5 s, 1 s, 2 s … capped at 30 s). */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** In [0, 1); jitter spreads retries of many agents. */
  random: () => number;
}

/** Delay before retry number `attempt` (1-based): exponential, capped, with ±25% jitter. */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const exp = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  const jitter = 0.75 + options.random() * 0.5;
  return Math.round(Math.min(options.maxMs, exp * jitter));
}
