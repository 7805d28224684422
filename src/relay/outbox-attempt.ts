/**
 * One publish attempt of one outbox row, and what it means for the row: delivered (a relay said OK,
 * `duplicate:` included), failed (every relay refused for good, or the deadline passed), or retry
 * with backoff. Nothing is written here: the publisher records the outcome, grouped with others.
 */
import { rejectionPrefix } from '../protocol/schema.js';
import type { OutboxEntry, OutboxSettlement } from '../storage/types.js';
import type { Clock } from '../util/clock.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { OwnEchoes } from './own-echoes.js';
import { resolveTargetRelays } from './target-relays.js';
import type { OutboxReport, RelayListResolver, RelayPool, RelayPublishResult } from './types.js';

/** Answers that will not change on retry: that relay is skipped from then on. */
const PERMANENT = new Set(['blocked', 'invalid', 'restricted', 'pow', 'mute']);

/** What an attempt needs (the publisher's options). */
export interface AttemptDeps {
  pool: RelayPool;
  lists: RelayListResolver;
  ownRelays: (agentPubkey: string) => string[];
  clock: Clock;
  random?: () => number;
  backoff?: BackoffOptions;
  publishTimeoutMs?: number;
  ownEchoes?: OwnEchoes;
}

/** An attempt's outcome: the row's settlement to record, and the report to give once it is recorded. */
export interface AttemptOutcome {
  settlement: OutboxSettlement;
  report: OutboxReport;
}

/**
 * Publishes `row` once to the relays it should go to (minus those that refused it for good) and
 * decides its outcome. Undefined when `stopping` aborted and no relay said OK: an attempt cut short
 * by the stop is not recorded, so the row stays exactly as it was (pending, due) for the next run.
 */
export async function attemptRow(row: OutboxEntry, deps: AttemptDeps, stopping?: AbortSignal): Promise<AttemptOutcome | undefined> {
  const base = { outboxId: row.id, agentPubkey: row.agentPubkey, eventId: row.eventId, kind: row.event.kind, createdAt: row.createdAt };
  const refused = row.results.filter((r) => !r.ok && PERMANENT.has(rejectionPrefix(r.message) ?? ''));
  const targets = await resolveTargetRelays(row, deps.lists, deps.ownRelays, stopping);
  const relays = targets.filter((url) => !refused.some((r) => r.relay === url));
  // Before the publish: the relay may send the copy back on the inbox before its OK arrives.
  if (row.target.type === 'own') deps.ownEchoes?.noteOwnCopy(row.event);
  const fresh = relays.length > 0 ? await deps.pool.publish(row.event, { relays, timeoutMs: deps.publishTimeoutMs, signal: stopping }) : [];
  const results: RelayPublishResult[] = [...fresh, ...refused];
  const accepted = fresh.filter((r) => r.ok).map((r) => r.relay);
  const now = deps.clock.now();
  if (accepted.length > 0) {
    return { settlement: { id: row.id, attempt: { results, accepted, nextAttemptAt: now, now }, finish: { status: 'delivered' } }, report: { type: 'delivered', ...base, accepted, results } };
  }
  if (stopping?.aborted) return undefined;
  const hopeless = relays.length === 0 || fresh.every((r) => PERMANENT.has(rejectionPrefix(r.message) ?? ''));
  if (hopeless || now >= row.deadlineAt) {
    const why = hopeless ? 'every relay refused the event' : 'no relay accepted it before the deadline';
    const reason = `${why}: ${results.map((r) => `${r.relay} ${r.message}`).join('; ') || 'no relays to publish to'}`;
    return { settlement: { id: row.id, attempt: { results, accepted, nextAttemptAt: now, now }, finish: { status: 'failed', reason } }, report: { type: 'failed', ...base, reason, results } };
  }
  const nextAttemptAt = now + backoffDelay(row.attempts, { initialMs: 2000, maxMs: 300_000, ...deps.backoff }, deps.random);
  return { settlement: { id: row.id, attempt: { results, accepted, nextAttemptAt, now } }, report: { type: 'retry', ...base, results, nextAttemptAt: Math.min(nextAttemptAt, row.deadlineAt) } };
}
