/** Default limits and their NIP-11 `limitation` form. */
import type { RelayLimits } from './types.js';

/** Defaults: generous enough for tests and agents, tight enough that one client cannot hurt the others. */
export const DEFAULT_LIMITS: Readonly<RelayLimits> = Object.freeze({
  maxMessageBytes: 512 * 1024,
  maxSubscriptions: 64,
  maxFilters: 32,
  maxLimit: 5000,
  maxSubIdLength: 64,
  maxEventTags: 2500,
  maxContentLength: 256 * 1024,
  eventsPerSecond: 200,
  eventBurst: 2000,
  createdAtFutureSeconds: 900,
});

/** Merges overrides onto the defaults, refusing values that would make the relay unusable. */
export function resolveLimits(overrides: Partial<RelayLimits> = {}): RelayLimits {
  const limits: RelayLimits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(overrides) as Array<[keyof RelayLimits, number | undefined]>) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_LIMITS)) throw new Error(`unknown relay limit "${key}"`);
    if (!Number.isFinite(value) || value < 0) throw new Error(`relay limit ${key} must be a non-negative number, got ${value}`);
    limits[key] = value;
  }
  for (const key of ['maxMessageBytes', 'maxSubscriptions', 'maxFilters', 'maxSubIdLength'] as const) {
    if (limits[key] < 1) throw new Error(`relay limit ${key} must be at least 1`);
  }
  return limits;
}

/** The NIP-11 `limitation` object for these limits (`max_events_per_second` is this relay's extension). */
export function limitationDocument(limits: RelayLimits, authRequired = false): Record<string, number | boolean> {
  return {
    max_message_length: limits.maxMessageBytes,
    max_subscriptions: limits.maxSubscriptions,
    max_filters: limits.maxFilters,
    max_limit: limits.maxLimit,
    max_subid_length: limits.maxSubIdLength,
    max_event_tags: limits.maxEventTags,
    max_content_length: limits.maxContentLength,
    created_at_upper_limit: limits.createdAtFutureSeconds,
    max_events_per_second: limits.eventsPerSecond,
    auth_required: authRequired,
    payment_required: false,
    restricted_writes: false,
  };
}
