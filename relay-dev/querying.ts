/**
 * REQ and CLOSE: validate the subscription against the limits and filter hooks, send stored matches
 * (each filter's limit capped, newest first), EOSE, then keep the filters for live delivery.
 */
import type { Filter } from '../src/protocol/filter.js';
import { FilterSchema } from '../src/protocol/schema.js';
import type { Connection, Subscription } from './connection.js';
import { firstIssue, prefixed } from './prefix.js';
import type { Relay } from './relay.js';
import { searchTerms } from './search.js';

/**
 * Checks a REQ or COUNT (`[verb, subId, ...filters]`) and returns its subscription, or answers the
 * refusal itself (CLOSED with a prefix, or NOTICE when there is no usable id) and returns undefined.
 */
export function parseSubscription(relay: Relay, conn: Connection, msg: unknown[]): Subscription | undefined {
  const { limits } = relay;
  const subId = msg[1];
  if (typeof subId !== 'string' || subId === '') {
    relay.notice(conn, `invalid: ${String(msg[0])} needs a non-empty subscription id`);
    return undefined;
  }
  const refuse = (reason: string): undefined => {
    conn.closed(subId, reason);
    return undefined;
  };
  if (subId.length > limits.maxSubIdLength) {
    return refuse(`invalid: subscription id is longer than ${limits.maxSubIdLength} characters`);
  }
  const raw = msg.slice(2);
  if (raw.length === 0) return refuse('invalid: at least one filter is required');
  if (raw.length > limits.maxFilters) return refuse(`invalid: ${raw.length} filters, the limit is ${limits.maxFilters}`);
  const filters: Filter[] = [];
  for (const [i, candidate] of raw.entries()) {
    const parsed = FilterSchema.safeParse(candidate);
    if (!parsed.success) return refuse(`invalid: filter ${i + 1}: ${firstIssue(parsed.error)}`);
    for (const hook of relay.rejectFilter) {
      const verdict = hook(parsed.data, conn);
      if (verdict !== undefined) return refuse(prefixed(verdict));
    }
    filters.push(parsed.data);
  }
  for (const hook of relay.rejectReq) {
    const verdict = hook(filters, conn);
    if (verdict !== undefined) return refuse(prefixed(verdict));
  }
  return { id: subId, filters, terms: filters.map((f) => (f.search === undefined ? undefined : searchTerms(f.search))) };
}

/** Handles `["REQ", subId, ...filters]`. */
export function handleReq(relay: Relay, conn: Connection, msg: unknown[]): void {
  const subId = msg[1];
  if (typeof subId === 'string' && !conn.subs.has(subId) && conn.subs.size >= relay.limits.maxSubscriptions) {
    conn.closed(subId, `rate-limited: ${conn.subs.size} subscriptions are open, the limit is ${relay.limits.maxSubscriptions}`);
    return;
  }
  const started = performance.now();
  const sub = parseSubscription(relay, conn, msg);
  if (!sub) return;
  conn.subs.delete(sub.id); // a REQ with an open id replaces that subscription
  const scope = relay.scope(conn);
  let raws: string[];
  try {
    raws = relay.store.queryRawDistinct(sub.filters, scope, (filter) => Math.min(filter.limit ?? relay.limits.maxLimit, relay.limits.maxLimit));
  } catch (error) {
    relay.logger.log({ level: 'error', ns: 'relay', msg: 'query failed', error: String(error) });
    conn.closed(sub.id, 'error: the query failed');
    return;
  }
  for (const raw of raws) conn.event(sub.id, raw);
  const sent = raws.length;
  conn.eose(sub.id);
  conn.subs.set(sub.id, sub);
  const elapsed = performance.now() - started;
  for (const hook of relay.onReqServed) relay.safely(() => hook(elapsed, sent));
}

/** Handles `["CLOSE", subId]`: ends the subscription, without an answer (NIP-01 defines none). */
export function handleClose(relay: Relay, conn: Connection, msg: unknown[]): void {
  if (typeof msg[1] !== 'string') return relay.notice(conn, 'invalid: CLOSE needs a subscription id');
  conn.subs.delete(msg[1]);
}
