/**
 * The inbox (durable trigger queue) on Postgres. Finishing a row is `UPDATE … WHERE status =
 * 'pending'`: a concurrent finisher waits for the row lock and then finds it no longer pending, so
 * exactly one consumer wins, across processes too.
 */
import type { JsonValue } from '../agent-types.js';
import { StorageInputError } from '../errors.js';
import type { InboxEntry, InboxStatus, NewInboxEntry, TriggerType } from '../runtime-types.js';
import type { Ex } from './executor.js';
import { limitOrAll, parseJsonColumn } from './json.js';

interface InboxRow {
  id: number;
  agent_index: number;
  trigger: TriggerType;
  event_id: string | null;
  sender: string | null;
  payload_json: string;
  status: InboxStatus;
  attempts: number;
  not_before: number;
  created_at: number;
  updated_at: number;
  reason: string | null;
}

const TRIGGERS: readonly TriggerType[] = ['dm', 'mention', 'alarm', 'event', 'manual'];
const COLUMNS = 'id, agent_index, trigger, event_id, sender, payload_json, status, attempts, not_before, created_at, updated_at, reason';

/** The processed mark of `insertInbox` (parameters $8, $9; $7 is the row's `now`). */
const WITH_MARK = `WITH mark AS (INSERT INTO processed_events (event_id, outcome, processed_at) VALUES ($8, $9, $7) ON CONFLICT (event_id) DO NOTHING) `;

/**
 * Queues a trigger; idempotent on (agent, dedupeKey ?? eventId). `inserted` is false for a duplicate.
 * With `entry.processed`, the processed mark is written by the same statement (a data-modifying
 * WITH): one round trip, and atomic with the row inside or outside a transaction.
 */
export async function insertInbox(ex: Ex, entry: NewInboxEntry): Promise<{ id: number; inserted: boolean }> {
  if (!TRIGGERS.includes(entry.trigger)) throw new StorageInputError(`inbox trigger must be one of ${TRIGGERS.join(', ')}, got ${JSON.stringify(entry.trigger)}`);
  const key = entry.dedupeKey ?? entry.eventId ?? null;
  const payload = JSON.stringify(entry.payload ?? null);
  if (payload === undefined) throw new StorageInputError('inbox payload is not JSON-serializable');
  const params = [entry.agentIndex, entry.trigger, entry.eventId ?? null, key, entry.sender ?? null, payload, entry.now];
  const mark = entry.processed;
  const row = await ex.one<{ id: number }>(
    `${mark ? WITH_MARK : ''}INSERT INTO inbox (agent_index, trigger, event_id, dedupe_key, sender, payload_json, not_before, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7) ON CONFLICT (agent_index, dedupe_key) DO NOTHING RETURNING id`,
    mark ? [...params, mark.eventId, mark.outcome] : params,
  );
  if (row) return { id: row.id, inserted: true };
  const existing = await ex.one<{ id: number }>(`SELECT id FROM inbox WHERE agent_index = $1 AND dedupe_key = $2`, [entry.agentIndex, key]);
  if (!existing) throw new Error(`inbox insert for agent ${entry.agentIndex} left no row`);
  return { id: existing.id, inserted: false };
}

/** One row by id. */
export async function getInbox(ex: Ex, id: number): Promise<InboxEntry | undefined> {
  const row = await ex.one<InboxRow>(`SELECT ${COLUMNS} FROM inbox WHERE id = $1`, [id]);
  return row ? toEntry(row) : undefined;
}

/** The agent's pending rows in arrival order; with `now`, only rows not deferred past it. */
export async function pendingInbox(ex: Ex, agentIndex: number, options: { now?: number; limit?: number } = {}): Promise<InboxEntry[]> {
  const limit = limitOrAll(options.limit);
  const rows = options.now === undefined
    ? await ex.rows<InboxRow>(`SELECT ${COLUMNS} FROM inbox WHERE agent_index = $1 AND status = 'pending' ORDER BY id LIMIT $2`, [agentIndex, limit])
    : await ex.rows<InboxRow>(`SELECT ${COLUMNS} FROM inbox WHERE agent_index = $1 AND status = 'pending' AND not_before <= $3 ORDER BY id LIMIT $2`, [agentIndex, limit, options.now]);
  return rows.map(toEntry);
}

/** Agents with pending triggers (due at `now` when given). */
export async function agentsWithPendingInbox(ex: Ex, now?: number): Promise<number[]> {
  const rows = now === undefined
    ? await ex.rows<{ agent_index: number }>(`SELECT DISTINCT agent_index FROM inbox WHERE status = 'pending' ORDER BY agent_index`)
    : await ex.rows<{ agent_index: number }>(`SELECT DISTINCT agent_index FROM inbox WHERE status = 'pending' AND not_before <= $1 ORDER BY agent_index`, [now]);
  return rows.map((r) => r.agent_index);
}

/** Finishes a pending row; false if it was not pending (already handled by someone else). */
export async function finishInbox(ex: Ex, id: number, status: Exclude<InboxStatus, 'pending'>, reason: string | null, now: number): Promise<boolean> {
  return (await ex.count(`UPDATE inbox SET status = $1, reason = $2, updated_at = $3 WHERE id = $4 AND status = 'pending'`, [status, reason, now, id])) > 0;
}

/** Counts a failed attempt and defers the pending row to `retryAt`. */
export async function recordInboxAttempt(ex: Ex, id: number, options: { error: string; retryAt: number; now: number }): Promise<boolean> {
  return (await ex.count(
    `UPDATE inbox SET attempts = attempts + 1, reason = $1, not_before = $2, updated_at = $3 WHERE id = $4 AND status = 'pending'`,
    [options.error, options.retryAt, options.now, id],
  )) > 0;
}

/** Deletes finished rows last updated before `olderThan` (ms). */
export async function pruneInbox(ex: Ex, olderThan: number): Promise<number> {
  return ex.count(`DELETE FROM inbox WHERE status <> 'pending' AND updated_at < $1`, [olderThan]);
}

/** Pending rows per agent and the oldest one's creation time (metrics). */
export async function inboxDepth(ex: Ex): Promise<Array<{ agentIndex: number; pending: number; oldestCreatedAt: number }>> {
  const rows = await ex.rows<{ agent_index: number; pending: number; oldest: number }>(
    `SELECT agent_index, count(*) AS pending, min(created_at) AS oldest FROM inbox WHERE status = 'pending' GROUP BY agent_index ORDER BY agent_index`,
  );
  return rows.map((r) => ({ agentIndex: r.agent_index, pending: r.pending, oldestCreatedAt: r.oldest }));
}

function toEntry(row: InboxRow): InboxEntry {
  const entry: InboxEntry = {
    id: row.id,
    agentIndex: row.agent_index,
    trigger: row.trigger,
    payload: parseJsonColumn<JsonValue>(row.payload_json, 'inbox.payload_json'),
    status: row.status,
    attempts: row.attempts,
    notBefore: row.not_before,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.event_id !== null) entry.eventId = row.event_id;
  if (row.sender !== null) entry.sender = row.sender;
  if (row.reason !== null) entry.reason = row.reason;
  return entry;
}
