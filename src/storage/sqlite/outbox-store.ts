/**
 * The durable outbox: signed events written inside the tick's transaction, then published by the
 * messaging layer and retried until a relay answers OK or the deadline passes. Free functions over
 * a Db; every one is a plain synchronous call, so it composes inside `db.transaction`.
 */
import { z } from 'zod';
import type { NostrEvent } from '../../protocol/event.js';
import type { OutboxAttempt, OutboxDueFilter, OutboxEnqueue, OutboxEntry, OutboxSettlement, OutboxStatus, OutboxTarget, RelayPublishResult } from '../types.js';
import { StorageInputError } from '../errors.js';
import { LANE_NUMBER, laneFromNumber, laneNumber } from '../outbox-lane.js';
import type { Db } from './database.js';
import { all, get, parseJsonColumn, run, sql } from './query.js';

/** The row as SQLite returns it. */
interface OutboxRow {
  id: number;
  agent_pubkey: string;
  event_id: string;
  event_json: string;
  target_json: string;
  lane: number;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  deadline_at: number;
  last_attempt_at: number | null;
  accepted_json: string;
  results_json: string;
  last_error: string | null;
  delivered_at: number | null;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Validates an outbox target before it is stored (the caller's input is the trust boundary). */
export const OutboxTargetSchema: z.ZodType<OutboxTarget> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('dm'), recipient: z.string().regex(HEX64, 'recipient must be a 64-char hex pubkey') }),
  z.object({ type: z.literal('relays'), relays: z.array(z.string().regex(/^wss?:\/\//, 'relay URL must start with ws:// or wss://')).min(1) }),
  z.object({ type: z.literal('own') }),
]);

const INSERT = sql<[string, string, string, string, number, number, number, number]>(`
  INSERT INTO outbox (agent_pubkey, event_id, event_json, target_json, next_attempt_at, created_at, deadline_at, lane)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (event_id) DO NOTHING`);
const ID_BY_EVENT = sql<[string], { id: number }>(`SELECT id FROM outbox WHERE event_id = ?`);
const BY_EVENT = sql<[string], OutboxRow>(`SELECT * FROM outbox WHERE event_id = ?`);
const BY_ID = sql<[number], OutboxRow>(`SELECT * FROM outbox WHERE id = ?`);
const NEXT_DUE = sql<[], { at: number | null }>(`SELECT min(next_attempt_at) AS at FROM outbox WHERE status = 'pending'`);
/** Rows of agents the daemon holds, or signed by no agent (the owner's): the delivery's lease check. */
const HELD = `(NOT EXISTS (SELECT 1 FROM agents a WHERE a.pubkey = outbox.agent_pubkey) OR EXISTS (SELECT 1 FROM agents a JOIN agent_leases l USING (agent_index) WHERE a.pubkey = outbox.agent_pubkey AND l.daemon_id = ?))`;
const NEXT_DUE_HELD = sql<[string], { at: number | null }>(`SELECT min(next_attempt_at) AS at FROM outbox WHERE status = 'pending' AND ${HELD}`);
const ATTEMPT = sql<[string, string, string | null, number, number, number]>(`
  UPDATE outbox SET attempts = attempts + 1, results_json = ?, accepted_json = ?, last_error = ?,
    last_attempt_at = ?, next_attempt_at = min(?, deadline_at)
  WHERE id = ? AND status = 'pending'`);
const DELIVERED = sql<[number, number, number]>(`
  UPDATE outbox SET status = 'delivered', delivered_at = ?, finished_at = ?, last_error = NULL
  WHERE id = ? AND status = 'pending'`);
const FAILED = sql<[string, number, number]>(`
  UPDATE outbox SET status = 'failed', last_error = ?, finished_at = ? WHERE id = ? AND status = 'pending'`);
const PRUNE = sql<[number]>(`DELETE FROM outbox WHERE finished_at IS NOT NULL AND finished_at < ?`);

/**
 * Queues a signed event; idempotent by event id (a second call returns the first row's id and
 * changes nothing). Synchronous, so it runs inside the caller's transaction.
 */
export function enqueueOutbox(db: Db, entry: OutboxEnqueue): number {
  const parsed = OutboxTargetSchema.safeParse(entry.target);
  if (!parsed.success) throw new StorageInputError(`invalid outbox target: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  const target = parsed.data;
  const event = entry.event;
  if (!HEX64.test(event.id)) throw new StorageInputError(`outbox event id must be 64-char hex, got ${JSON.stringify(event.id)}`);
  const inserted = run(db, INSERT, entry.agentPubkey, event.id, JSON.stringify(event), JSON.stringify(target), entry.nextAttemptAt ?? entry.now, entry.now, entry.deadlineAt, laneNumber({ target, ...(entry.lane ? { lane: entry.lane } : {}) }));
  // `id` is the rowid: a new row's id is the insert's; only a repeat (DO NOTHING) is looked up.
  if (inserted.changes > 0) return Number(inserted.lastInsertRowid);
  const row = get(db, ID_BY_EVENT, event.id);
  if (!row) throw new Error(`outbox insert of ${event.id} left no row`);
  return row.id;
}

/** Queues several events in one transaction (each as enqueueOutbox: a bad one rolls all back); ids in input order. */
export function enqueueManyOutbox(db: Db, entries: readonly OutboxEnqueue[]): number[] {
  return db.transaction(() => entries.map((entry) => enqueueOutbox(db, entry)))();
}

/**
 * Pending rows whose next attempt is due at `now`, oldest first, at most `limit`; narrowed to the
 * rows the holder may deliver, to one lane, and without the ids in `exclude` (one JSON parameter,
 * so the statement text, and its cached statement, stays one per combination of filters).
 */
export function dueOutbox(db: Db, now: number, limit: number, filter: OutboxDueFilter = {}): OutboxEntry[] {
  const where = [`status = 'pending'`, `next_attempt_at <= ?`];
  const params: Array<string | number> = [now];
  if (filter.lane !== undefined) {
    where.push('lane = ?');
    params.push(LANE_NUMBER[filter.lane]);
  }
  if (filter.exclude !== undefined && filter.exclude.length > 0) {
    where.push('id NOT IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(filter.exclude));
  }
  if (filter.holder !== undefined) {
    where.push(HELD);
    params.push(filter.holder);
  }
  params.push(limit);
  return all(db, sql<Array<string | number>, OutboxRow>(`SELECT * FROM outbox WHERE ${where.join(' AND ')} ORDER BY next_attempt_at, id LIMIT ?`), ...params).map(toEntry);
}

/** When the next pending row comes due (ms), or undefined when nothing is pending: lets the sender sleep exactly. */
export function nextOutboxDue(db: Db, holder?: string): number | undefined {
  return (holder === undefined ? get(db, NEXT_DUE) : get(db, NEXT_DUE_HELD, holder))?.at ?? undefined;
}

/**
 * Records one publish attempt: results replace the last ones, accepted relays accumulate,
 * the next attempt is clamped to the deadline (so an expiring row comes due once more to be failed).
 */
export function recordOutboxAttempt(db: Db, id: number, attempt: OutboxAttempt): void {
  const current = get(db, BY_ID, id);
  if (!current || current.status !== 'pending') return;
  const accepted = [...new Set([...parseJsonColumn<string[]>(current.accepted_json, 'outbox.accepted_json'), ...attempt.accepted])];
  const failures = attempt.results.filter((r) => !r.ok).map((r) => `${r.relay}: ${r.message}`);
  const lastError = failures.length > 0 ? failures.join('; ') : null;
  run(db, ATTEMPT, JSON.stringify(attempt.results), JSON.stringify(accepted), lastError, attempt.now, attempt.nextAttemptAt, id);
}

/** Marks a pending row delivered (a relay answered OK). No-op for rows already finished. */
export function markOutboxDelivered(db: Db, id: number, now: number): void {
  run(db, DELIVERED, now, now, id);
}

/** Marks a pending row failed with a reason (deadline passed, or the event was rejected everywhere). */
export function markOutboxFailed(db: Db, id: number, reason: string, now: number): void {
  run(db, FAILED, reason, now, id);
}

/** Records many settled attempts in one transaction (a savepoint inside an open one). */
export function settleOutbox(db: Db, settlements: readonly OutboxSettlement[]): void {
  db.transaction(() => {
    for (const s of settlements) {
      recordOutboxAttempt(db, s.id, s.attempt);
      if (s.finish?.status === 'delivered') markOutboxDelivered(db, s.id, s.attempt.now);
      else if (s.finish?.status === 'failed') markOutboxFailed(db, s.id, s.finish.reason, s.attempt.now);
    }
  })();
}

/** The row for an event id, if queued. */
export function getOutboxByEventId(db: Db, eventId: string): OutboxEntry | undefined {
  const row = get(db, BY_EVENT, eventId);
  return row ? toEntry(row) : undefined;
}

/** The row by its id, if any. */
export function getOutbox(db: Db, id: number): OutboxEntry | undefined {
  const row = get(db, BY_ID, id);
  return row ? toEntry(row) : undefined;
}

/** Rows filtered by agent and/or status, oldest first (for status displays and tests). */
export function listOutbox(db: Db, filter: { agentPubkey?: string; status?: OutboxStatus; limit?: number } = {}): OutboxEntry[] {
  const where: string[] = [];
  const params: Array<string | number> = [];
  if (filter.agentPubkey !== undefined) {
    where.push('agent_pubkey = ?');
    params.push(filter.agentPubkey);
  }
  if (filter.status !== undefined) {
    where.push('status = ?');
    params.push(filter.status);
  }
  params.push(filter.limit ?? -1);
  const text = `SELECT * FROM outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`;
  return all(db, sql<Array<string | number>, OutboxRow>(text), ...params).map(toEntry);
}

/** Deletes delivered/failed rows finished before `olderThan` (ms); returns how many. */
export function pruneOutbox(db: Db, olderThan: number): number {
  return run(db, PRUNE, olderThan).changes;
}

function toEntry(row: OutboxRow): OutboxEntry {
  const entry: OutboxEntry = {
    id: row.id,
    agentPubkey: row.agent_pubkey,
    eventId: row.event_id,
    event: parseJsonColumn<NostrEvent>(row.event_json, 'outbox.event_json'),
    target: parseJsonColumn<OutboxTarget>(row.target_json, 'outbox.target_json'),
    lane: laneFromNumber(row.lane),
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
    deadlineAt: row.deadline_at,
    accepted: parseJsonColumn<string[]>(row.accepted_json, 'outbox.accepted_json'),
    results: parseJsonColumn<RelayPublishResult[]>(row.results_json, 'outbox.results_json'),
  };
  if (row.last_attempt_at !== null) entry.lastAttemptAt = row.last_attempt_at;
  if (row.last_error !== null) entry.lastError = row.last_error;
  if (row.delivered_at !== null) entry.deliveredAt = row.delivered_at;
  return entry;
}

const COUNTS = sql<[], { agent_pubkey: string; status: OutboxStatus; n: number }>(`
  SELECT agent_pubkey, status, count(*) AS n FROM outbox WHERE status <> 'delivered' GROUP BY agent_pubkey, status ORDER BY agent_pubkey`);

/** Rows not delivered (pending, failed) per agent, for metrics. */
export function outboxCounts(db: Db): Array<{ agentPubkey: string; status: Exclude<OutboxStatus, 'delivered'>; count: number }> {
  return all(db, COUNTS).map((r) => ({ agentPubkey: r.agent_pubkey, status: r.status as Exclude<OutboxStatus, 'delivered'>, count: r.n }));
}
