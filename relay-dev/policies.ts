/**
 * Ready-made policy hooks. Push them onto a Relay's arrays, or write your own in a few lines:
 *   relay.rejectEvent.push(allowPubkeys([owner]));          // a write whitelist
 *   relay.rejectEvent.push(allowKinds([0, 1, 5, 1059]));    // a kind filter
 * `startRelay` installs eventLimits, eventRateLimit and protectedEvents on rejectEvent, privateKindsNeedAuth
 * on rejectReq, and for `auth: 'required'` authRequiredForEvents and authRequiredForReads.
 */
import type { NostrEvent } from '../src/protocol/event.js';
import type { Filter } from '../src/protocol/filter.js';
import type { ConnectionInfo, RejectEventHook, RejectFilterHook, RejectReqHook, RelayLimits, WithholdMode } from './types.js';

/** Size, tag count and future-timestamp limits on incoming events. */
export function eventLimits(limits: RelayLimits, now: () => number = Date.now): RejectEventHook {
  return (event) => {
    if (event.tags.length > limits.maxEventTags) return `invalid: ${event.tags.length} tags, the limit is ${limits.maxEventTags}`;
    if (event.content.length > limits.maxContentLength) {
      return `invalid: content is ${event.content.length} characters, the limit is ${limits.maxContentLength}`;
    }
    const ahead = event.created_at - Math.floor(now() / 1000);
    if (ahead > limits.createdAtFutureSeconds) return `invalid: created_at is ${ahead} s in the future`;
    return undefined;
  };
}

/** A token bucket per connection: `eventsPerSecond` sustained, `eventBurst` at once (0 per second: off). */
export function eventRateLimit(limits: RelayLimits, now: () => number = Date.now): RejectEventHook {
  const buckets = new WeakMap<ConnectionInfo, { tokens: number; at: number }>();
  return (_event, conn) => {
    if (limits.eventsPerSecond <= 0) return undefined;
    const t = now();
    const bucket = buckets.get(conn) ?? { tokens: limits.eventBurst, at: t };
    bucket.tokens = Math.min(limits.eventBurst, bucket.tokens + ((t - bucket.at) / 1000) * limits.eventsPerSecond);
    bucket.at = t;
    buckets.set(conn, bucket);
    if (bucket.tokens < 1) return `rate-limited: more than ${limits.eventsPerSecond} events per second`;
    bucket.tokens -= 1;
    return undefined;
  };
}

/** NIP-70: an event with a `["-"]` tag is accepted only from its authenticated author (never, without NIP-42). */
export function protectedEvents(authEnabled: () => boolean = () => true): RejectEventHook {
  return (event, conn) => {
    if (!event.tags.some((t) => t.length >= 1 && t[0] === '-')) return undefined;
    if (conn.authed.has(event.pubkey)) return undefined;
    if (!authEnabled()) return 'blocked: this event is protected and this relay does not support AUTH';
    if (conn.authed.size === 0) return 'auth-required: this event may only be published by its author';
    return 'restricted: this event may only be published by its author';
  };
}

/**
 * Private kinds (NIP-42; 4 and 1059 by default) need AUTH. Authenticated readers only ever get events whose
 * `p` tag names them (the query scope sees to that); what an unauthenticated REQ gets depends on `withhold`
 * (see WithholdMode): by default a filter naming a private kind is refused; `mixed` refuses only a REQ whose
 * filters all name private kinds only (strfry); `all` refuses nothing. Filters without `kinds` never get them.
 */
export function privateKindsNeedAuth(privateKinds: () => readonly number[], withhold: () => WithholdMode | undefined = () => undefined): RejectReqHook {
  return (filters, conn) => {
    const mode = withhold();
    if (conn.authed.size > 0 || mode === 'all') return undefined;
    const isPrivate = (k: number): boolean => privateKinds().includes(k);
    if (mode === 'mixed') {
      const allPrivate = filters.length > 0 && filters.every((f) => f.kinds !== undefined && f.kinds.length > 0 && f.kinds.every(isPrivate));
      return allPrivate ? 'auth-required: this request asks only for kinds served to their authenticated recipient' : undefined;
    }
    const named = [...new Set(filters.flatMap((f) => (f.kinds ?? []).filter(isPrivate)))];
    if (named.length === 0) return undefined;
    return `auth-required: kind ${named.join(', ')} is served only to its authenticated recipient`;
  };
}

/** `auth: 'required'`: nothing is accepted from a connection that has not authenticated. */
export function authRequiredForEvents(): RejectEventHook {
  return (_event, conn) => (conn.authed.size > 0 ? undefined : 'auth-required: this relay accepts events only from authenticated clients');
}

/** `auth: 'required'`: no REQ or COUNT is answered before AUTH. */
export function authRequiredForReads(): RejectReqHook {
  return (_filters, conn) => (conn.authed.size > 0 ? undefined : 'auth-required: this relay serves only authenticated clients');
}

/** A write whitelist: only these pubkeys may publish (example policy). */
export function allowPubkeys(pubkeys: Iterable<string>): RejectEventHook {
  const allowed = new Set(pubkeys);
  return (event) => (allowed.has(event.pubkey) ? undefined : 'blocked: this relay only accepts events from its members');
}

/** A kind filter: only these kinds are accepted (example policy). */
export function allowKinds(kinds: Iterable<number>): RejectEventHook {
  const allowed = new Set(kinds);
  return (event: NostrEvent) => (allowed.has(event.kind) ? undefined : `blocked: kind ${event.kind} is not accepted here`);
}

/** Refuses filters with none of ids, authors, kinds or tags: an unbounded scan (example policy). */
export function requireNarrowFilters(): RejectFilterHook {
  return (filter: Filter) => {
    const narrow = filter.ids || filter.authors || filter.kinds || Object.keys(filter).some((k) => k.startsWith('#'));
    return narrow ? undefined : 'blocked: add ids, authors, kinds or a tag to the filter';
  };
}
