/**
 * The durable outbox on Postgres: signed events written inside the tick's transaction, published
 * afterwards and retried until a relay says OK or the deadline passes (SQLite's outbox-store.ts).
 */
import { z } from 'zod';
import type { NostrEvent } from '../../protocol/event.js';
import type { OutboxAttempt, OutboxDueFilter, OutboxEnqueue, OutboxEntry, OutboxSettlement, OutboxStatus, OutboxTarget, RelayPublishResult } from '../types.js';
import { StorageInputError } from '../errors.js';
import { LANE_NUMBER, laneFromNumber, laneNumber } from '../outbox-lane.js';
import { OutboxTargetSchema } from '../sqlite/outbox-store.js';
import type { Ex } from './executor.js';
import { limitOrAll, parseJsonColumn } from './json.js';

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

/** Queues a signed event; idempotent by event id (a second call returns the first row's id). */
export async function enqueueOutbox(ex: Ex, entry: OutboxEnqueue): Promise<number> {
  const parsed = OutboxTargetSchema.safeParse(entry.target);
  if (!parsed.success) throw new StorageInputError(`invalid outbox target: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  const event = entry.event;
  if (!HEX64.test(event.id)) throw new StorageInputError(`outbox event id must be 64-char hex, got ${JSON.stringify(event.id)}`);
  const row = await ex.one<{ id: number }>(
    `INSERT INTO outbox (agent_pubkey, event_id, event_json, target_json, next_attempt_at, created_at, deadline_at, lane)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id) DO NOTHING RETURNING id`,
    [entry.agentPubkey, event.id, JSON.stringify(event), JSON.stringify(parsed.data), entry.nextAttemptAt ?? entry.now, entry.now, entry.deadlineAt, laneNumber({ target: parsed.data, ...(entry.lane ? { lane: entry.lane } : {}) })],
  );
  if (row) return row.id;
  const existing = await ex.one<{ id: number }>(`SELECT id FROM outbox WHERE event_id = $1`, [event.id]);
  if (!existing) throw new Error(`outbox insert of ${event.id} left no row`);
  return existing.id;
}

/** One statement's worth of outbox rows as column arrays (validated; values only ever go as parameters). */
function outboxColumns(entries: ReadonlyArray<Omit<OutboxEnqueue, 'agentPubkey'>>) {
  const cols = { ids: [] as string[], events: [] as string[], targets: [] as string[], next: [] as number[], created: [] as number[], deadlines: [] as number[], lanes: [] as number[] };
  for (const entry of entries) {
    const parsed = OutboxTargetSchema.safeParse(entry.target);
    if (!parsed.success) throw new StorageInputError(`invalid outbox target: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
    const event = entry.event;
    if (!HEX64.test(event.id)) throw new StorageInputError(`outbox event id must be 64-char hex, got ${JSON.stringify(event.id)}`);
    cols.ids.push(event.id);
    cols.events.push(JSON.stringify(event));
    cols.targets.push(JSON.stringify(parsed.data));
    cols.next.push(entry.nextAttemptAt ?? entry.now);
    cols.created.push(entry.now);
    cols.deadlines.push(entry.deadlineAt);
    cols.lanes.push(laneNumber({ target: parsed.data, ...(entry.lane ? { lane: entry.lane } : {}) }));
  }
  return cols;
}

/** Ids in input order after an `INSERT … ON CONFLICT DO NOTHING RETURNING id, event_id`: a skipped (already stored) event id is looked up. */
async function idsInOrder(ex: Ex, eventIds: readonly string[], inserted: ReadonlyArray<{ id: number; event_id: string }>): Promise<number[]> {
  const byEvent = new Map(inserted.map((r) => [r.event_id, r.id]));
  const missing = eventIds.filter((id) => !byEvent.has(id));
  if (missing.length > 0) {
    for (const r of await ex.rows<{ id: number; event_id: string }>(`SELECT id, event_id FROM outbox WHERE event_id = ANY($1::text[])`, [missing])) byEvent.set(r.event_id, r.id);
  }
  return eventIds.map((id) => {
    const row = byEvent.get(id);
    if (row === undefined) throw new Error(`outbox insert of ${id} left no row`);
    return row;
  });
}

/**
 * The INSERT of one statement's worth of rows from the column arrays $1–$7; the author is $8: one
 * agent's index (its pubkey read from its row) or an array of pubkeys, one per row.
 */
function insertFromArrays(author: 'agent' | 'each'): string {
  const each = author === 'each';
  return `INSERT INTO outbox (agent_pubkey, event_id, event_json, target_json, next_attempt_at, created_at, deadline_at, lane)
     SELECT ${each ? 'p' : '(SELECT pubkey FROM agents WHERE agent_index = $8)'}, e, j, t, n, c, d, l
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::smallint[]${each ? ', $8::text[]' : ''})
       WITH ORDINALITY AS v(e, j, t, n, c, d, l, ${each ? 'p, ' : ''}i) ORDER BY i
     ON CONFLICT (event_id) DO NOTHING RETURNING id, event_id`;
}

/**
 * The tick commit's outbox rows, signed by agent `agentIndex`, in one statement: idempotent by event
 * id like enqueueOutbox, ids in input order, values only as array parameters through unnest (WITH
 * ORDINALITY + ORDER BY: ids drawn in the caller's order; a repeated event id, in this call or already
 * stored, is skipped by ON CONFLICT and looked up after). The author's public key is read from the
 * agents row by the same statement, so the commit sends it without waiting for its own read of that
 * row (one round trip for the whole commit).
 */
export async function enqueueAgentOutbox(ex: Ex, agentIndex: number, entries: ReadonlyArray<Omit<OutboxEnqueue, 'agentPubkey'>>): Promise<number[]> {
  if (entries.length === 0) return [];
  const cols = outboxColumns(entries);
  const inserted = await ex.rows<{ id: number; event_id: string }>(
    insertFromArrays('agent'),
    [cols.ids, cols.events, cols.targets, cols.next, cols.created, cols.deadlines, cols.lanes, agentIndex],
  );
  return idsInOrder(ex, cols.ids, inserted);
}

/**
 * Several rows, each with its own author, in one statement (the same rules as enqueueAgentOutbox):
 * a snapshot's chunks and manifest, a tick's trajectory and session events. One statement is atomic
 * on its own, so outside a transaction it needs none (no BEGIN and COMMIT around it either).
 */
export async function enqueueManyOutbox(ex: Ex, entries: readonly OutboxEnqueue[]): Promise<number[]> {
  if (entries.length === 0) return [];
  const cols = outboxColumns(entries);
  const inserted = await ex.rows<{ id: number; event_id: string }>(
    insertFromArrays('each'),
    [cols.ids, cols.events, cols.targets, cols.next, cols.created, cols.deadlines, cols.lanes, entries.map((e) => e.agentPubkey)],
  );
  return idsInOrder(ex, cols.ids, inserted);
}

/** Pending rows due at `now`, oldest first; narrowed to the holder's rows, one lane, and without the ids in `exclude`. */
export async function dueOutbox(ex: Ex, now: number, limit: number, filter: OutboxDueFilter = {}): Promise<OutboxEntry[]> {
  const where = [`status = 'pending'`, `next_attempt_at <= $1`];
  const params: unknown[] = [now, limit];
  if (filter.holder !== undefined) {
    params.push(filter.holder);
    where.push(HELD);
  }
  if (filter.lane !== undefined) {
    params.push(LANE_NUMBER[filter.lane]);
    where.push(`lane = $${params.length}`);
  }
  if (filter.exclude !== undefined && filter.exclude.length > 0) {
    params.push(filter.exclude);
    where.push(`NOT (id = ANY($${params.length}::bigint[]))`);
  }
  return (await ex.rows<OutboxRow>(`SELECT * FROM outbox WHERE ${where.join(' AND ')} ORDER BY next_attempt_at, id LIMIT $2`, params)).map(toEntry);
}

/** Rows of agents the daemon ($3 / $1) holds, or signed by no agent (the owner's): the delivery's lease check. */
const HELD = `(NOT EXISTS (SELECT 1 FROM agents a WHERE a.pubkey = outbox.agent_pubkey)
  OR EXISTS (SELECT 1 FROM agents a JOIN agent_leases l USING (agent_index) WHERE a.pubkey = outbox.agent_pubkey AND l.daemon_id = $3))`;

/** When the next pending row comes due (ms), or undefined. */
export async function nextOutboxDue(ex: Ex, holder?: string): Promise<number | undefined> {
  if (holder !== undefined) {
    return (await ex.one<{ at: number | null }>(`SELECT min(next_attempt_at) AS at FROM outbox WHERE status = 'pending' AND ${HELD.replace('$3', '$1')}`, [holder]))?.at ?? undefined;
  }
  return (await ex.one<{ at: number | null }>(`SELECT min(next_attempt_at) AS at FROM outbox WHERE status = 'pending'`))?.at ?? undefined;
}

/** Records one publish attempt: results replace, accepted relays accumulate, the next attempt is clamped to the deadline. */
export async function recordOutboxAttempt(ex: Ex, id: number, attempt: OutboxAttempt): Promise<void> {
  await ex.unit(async (tx) => {
    const current = await tx.one<OutboxRow>(`SELECT * FROM outbox WHERE id = $1 FOR UPDATE`, [id]);
    if (!current || current.status !== 'pending') return;
    const accepted = [...new Set([...parseJsonColumn<string[]>(current.accepted_json, 'outbox.accepted_json'), ...attempt.accepted])];
    const failures = attempt.results.filter((r) => !r.ok).map((r) => `${r.relay}: ${r.message}`);
    await tx.count(
      `UPDATE outbox SET attempts = attempts + 1, results_json = $1, accepted_json = $2, last_error = $3,
         last_attempt_at = $4, next_attempt_at = least($5::bigint, deadline_at)
       WHERE id = $6 AND status = 'pending'`,
      [JSON.stringify(attempt.results), JSON.stringify(accepted), failures.length > 0 ? failures.join('; ') : null, attempt.now, attempt.nextAttemptAt, id],
    );
  });
}

/** Marks a pending row delivered. */
export async function markOutboxDelivered(ex: Ex, id: number, now: number): Promise<void> {
  await ex.count(`UPDATE outbox SET status = 'delivered', delivered_at = $1, finished_at = $1, last_error = NULL WHERE id = $2 AND status = 'pending'`, [now, id]);
}

/** Marks a pending row failed with a reason. */
export async function markOutboxFailed(ex: Ex, id: number, reason: string, now: number): Promise<void> {
  await ex.count(`UPDATE outbox SET status = 'failed', last_error = $1, finished_at = $2 WHERE id = $3 AND status = 'pending'`, [reason, now, id]);
}

/**
 * Records many settled attempts in ONE statement (no transaction of its own, so it never waits in
 * the storage's unit queue behind a tick commit, nor a commit behind it): every row written by an
 * UPDATE from arrays, the accepted relays merged in SQL with the row's stored list (stored ones
 * first, then the new, each once: what recordAttempt's JS merge gives; each relay keeps its first
 * place by the key (list, position), list 0 the stored one, 1 the new; a row with none stored, a
 * first attempt's, takes the new list as it is, already made unique here). A row no longer pending is
 * left alone. The UPDATE locks each row as it writes it and re-reads a row another transaction
 * changed meanwhile (READ COMMITTED), so no merge is lost; rows go in id order, as the two-statement
 * version locked them. A group naming a row twice goes row by row, in order.
 */
export async function settleOutbox(ex: Ex, settlements: readonly OutboxSettlement[]): Promise<void> {
  if (settlements.length === 0) return;
  const ids = settlements.map((s) => s.id);
  if (new Set(ids).size !== ids.length) return settleOneByOne(ex, settlements);
  const cols = { ids: [] as number[], results: [] as string[], accepted: [] as string[], errors: [] as Array<string | null>, now: [] as number[], next: [] as number[], finish: [] as Array<string | null> };
  for (const s of [...settlements].sort((a, b) => a.id - b.id)) {
    const failures = s.attempt.results.filter((r) => !r.ok).map((r) => `${r.relay}: ${r.message}`);
    cols.ids.push(s.id);
    cols.results.push(JSON.stringify(s.attempt.results));
    cols.accepted.push(JSON.stringify([...new Set(s.attempt.accepted)]));
    // As recordAttempt then markDelivered / markFailed leave it: no error once delivered, the reason once failed.
    cols.errors.push(s.finish?.status === 'delivered' ? null : s.finish?.status === 'failed' ? s.finish.reason : failures.length > 0 ? failures.join('; ') : null);
    cols.now.push(s.attempt.now);
    cols.next.push(s.attempt.nextAttemptAt);
    cols.finish.push(s.finish?.status ?? null);
  }
  await ex.count(
    `UPDATE outbox o SET attempts = o.attempts + 1, results_json = v.results,
       accepted_json = CASE WHEN o.accepted_json = '[]' THEN v.accepted ELSE (
         SELECT coalesce('[' || string_agg(to_json(u.relay)::text, ',' ORDER BY u.list, u.pos) || ']', '[]')
         FROM (SELECT DISTINCT ON (relay) relay, list, pos FROM (
                 SELECT a.relay, 0 AS list, a.pos FROM json_array_elements_text(o.accepted_json::json) WITH ORDINALITY AS a(relay, pos)
                 UNION ALL
                 SELECT b.relay, 1 AS list, b.pos FROM json_array_elements_text(v.accepted::json) WITH ORDINALITY AS b(relay, pos)
               ) AS both_lists ORDER BY relay, list, pos) AS u) END,
       last_error = v.err,
       last_attempt_at = v.now, next_attempt_at = least(v.next, o.deadline_at),
       status = coalesce(v.finish, o.status),
       delivered_at = CASE WHEN v.finish = 'delivered' THEN v.now ELSE o.delivered_at END,
       finished_at = CASE WHEN v.finish IS NOT NULL THEN v.now ELSE o.finished_at END
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[]) AS v(id, results, accepted, err, now, next, finish)
     WHERE o.id = v.id AND o.status = 'pending'`,
    [cols.ids, cols.results, cols.accepted, cols.errors, cols.now, cols.next, cols.finish],
  );
}

/** The plain way: each settlement as recordAttempt then markDelivered / markFailed, in one transaction. */
async function settleOneByOne(ex: Ex, settlements: readonly OutboxSettlement[]): Promise<void> {
  await ex.unit(async (tx) => {
    for (const s of settlements) {
      await recordOutboxAttempt(tx, s.id, s.attempt);
      if (s.finish?.status === 'delivered') await markOutboxDelivered(tx, s.id, s.attempt.now);
      else if (s.finish?.status === 'failed') await markOutboxFailed(tx, s.id, s.finish.reason, s.attempt.now);
    }
  });
}

/** The row for an event id, if queued. */
export async function getOutboxByEventId(ex: Ex, eventId: string): Promise<OutboxEntry | undefined> {
  const row = await ex.one<OutboxRow>(`SELECT * FROM outbox WHERE event_id = $1`, [eventId]);
  return row ? toEntry(row) : undefined;
}

/** The row by id, if any. */
export async function getOutbox(ex: Ex, id: number): Promise<OutboxEntry | undefined> {
  const row = await ex.one<OutboxRow>(`SELECT * FROM outbox WHERE id = $1`, [id]);
  return row ? toEntry(row) : undefined;
}

/** Rows filtered by agent and/or status, oldest first. */
export async function listOutbox(ex: Ex, filter: { agentPubkey?: string; status?: OutboxStatus; limit?: number } = {}): Promise<OutboxEntry[]> {
  const rows = await ex.rows<OutboxRow>(
    `SELECT * FROM outbox WHERE ($1::text IS NULL OR agent_pubkey = $1) AND ($2::text IS NULL OR status = $2) ORDER BY id LIMIT $3`,
    [filter.agentPubkey ?? null, filter.status ?? null, limitOrAll(filter.limit)],
  );
  return rows.map(toEntry);
}

/** Deletes finished rows finished before `olderThan` (ms). */
export async function pruneOutbox(ex: Ex, olderThan: number): Promise<number> {
  return ex.count(`DELETE FROM outbox WHERE finished_at IS NOT NULL AND finished_at < $1`, [olderThan]);
}

/** Rows not delivered per agent (metrics). */
export async function outboxCounts(ex: Ex): Promise<Array<{ agentPubkey: string; status: Exclude<OutboxStatus, 'delivered'>; count: number }>> {
  const rows = await ex.rows<{ agent_pubkey: string; status: Exclude<OutboxStatus, 'delivered'>; n: number }>(
    `SELECT agent_pubkey, status, count(*) AS n FROM outbox WHERE status <> 'delivered' GROUP BY agent_pubkey, status ORDER BY agent_pubkey, status`,
  );
  return rows.map((r) => ({ agentPubkey: r.agent_pubkey, status: r.status, count: r.n }));
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
