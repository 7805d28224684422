/**
 * The inbox: the durable trigger queue. The messaging layer (and alarms, watches, the CLI) insert a
 * row per trigger; the runtime takes an agent's pending rows in arrival order and marks each done,
 * failed or refused in the same transaction as the tick's effects. Dedupe on (agent, dedupe key)
 * makes the same DM arriving from three relays one trigger.
 */
import type { JsonValue } from '../agent-types.js';
import { StorageInputError } from '../errors.js';
import type { InboxEntry, InboxStatus, NewInboxEntry, TriggerType } from '../runtime-types.js';
import type { Db } from './database.js';
import { markProcessed } from './processed-store.js';
import { all, get, parseJsonColumn, run, sql } from './query.js';

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

const INSERT = sql<[number, string, string | null, string | null, string | null, string, number, number, number]>(`
  INSERT INTO inbox (agent_index, trigger, event_id, dedupe_key, sender, payload_json, not_before, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (agent_index, dedupe_key) DO NOTHING`);
const BY_KEY = sql<[number, string], { id: number }>(`SELECT id FROM inbox WHERE agent_index = ? AND dedupe_key = ?`);
const BY_ID = sql<[number], InboxRow>(`SELECT ${COLUMNS} FROM inbox WHERE id = ?`);
const PENDING = sql<[number, number], InboxRow>(`
  SELECT ${COLUMNS} FROM inbox WHERE agent_index = ? AND status = 'pending' ORDER BY id LIMIT ?`);
const PENDING_DUE = sql<[number, number, number], InboxRow>(`
  SELECT ${COLUMNS} FROM inbox WHERE agent_index = ? AND status = 'pending' AND not_before <= ? ORDER BY id LIMIT ?`);
const AGENTS = sql<[], { agent_index: number }>(`SELECT DISTINCT agent_index FROM inbox WHERE status = 'pending' ORDER BY agent_index`);
const AGENTS_DUE = sql<[number], { agent_index: number }>(`
  SELECT DISTINCT agent_index FROM inbox WHERE status = 'pending' AND not_before <= ? ORDER BY agent_index`);
const FINISH = sql<[string, string | null, number, number]>(`
  UPDATE inbox SET status = ?, reason = ?, updated_at = ? WHERE id = ? AND status = 'pending'`);
const FINISH_OWN = sql<[string, string | null, number, number, number]>(`
  UPDATE inbox SET status = ?, reason = ?, updated_at = ? WHERE id = ? AND agent_index = ? AND status = 'pending'`);
const ATTEMPT = sql<[string, number, number, number]>(`
  UPDATE inbox SET attempts = attempts + 1, reason = ?, not_before = ?, updated_at = ? WHERE id = ? AND status = 'pending'`);
const PRUNE = sql<[number]>(`DELETE FROM inbox WHERE status <> 'pending' AND updated_at < ?`);
const DEPTH = sql<[], { agent_index: number; pending: number; oldest: number }>(`
  SELECT agent_index, count(*) AS pending, min(created_at) AS oldest FROM inbox WHERE status = 'pending' GROUP BY agent_index ORDER BY agent_index`);

/**
 * Queues a trigger; idempotent on (agent, dedupeKey ?? eventId). `inserted` is false for a duplicate.
 * With `entry.processed`, the row and the processed mark are one transaction (a savepoint inside an open one).
 */
export function insertInbox(db: Db, entry: NewInboxEntry): { id: number; inserted: boolean } {
  const mark = entry.processed;
  if (!mark) return insertRow(db, entry);
  return db.transaction(() => {
    const row = insertRow(db, entry);
    markProcessed(db, mark.eventId, mark.outcome, entry.now);
    return row;
  })();
}

function insertRow(db: Db, entry: NewInboxEntry): { id: number; inserted: boolean } {
  if (!TRIGGERS.includes(entry.trigger)) throw new StorageInputError(`inbox trigger must be one of ${TRIGGERS.join(', ')}, got ${JSON.stringify(entry.trigger)}`);
  const key = entry.dedupeKey ?? entry.eventId ?? null;
  const payload = JSON.stringify(entry.payload ?? null);
  if (payload === undefined) throw new StorageInputError('inbox payload is not JSON-serializable');
  const result = run(db, INSERT, entry.agentIndex, entry.trigger, entry.eventId ?? null, key, entry.sender ?? null, payload, entry.now, entry.now, entry.now);
  if (result.changes > 0) return { id: Number(result.lastInsertRowid), inserted: true };
  const existing = get(db, BY_KEY, entry.agentIndex, key as string);
  if (!existing) throw new Error(`inbox insert for agent ${entry.agentIndex} left no row`);
  return { id: existing.id, inserted: false };
}

/** One row by id. */
export function getInbox(db: Db, id: number): InboxEntry | undefined {
  const row = get(db, BY_ID, id);
  return row ? toEntry(row) : undefined;
}

/** The agent's pending rows in arrival order; with `now`, only rows not deferred past it. */
export function pendingInbox(db: Db, agentIndex: number, options: { now?: number; limit?: number } = {}): InboxEntry[] {
  const limit = options.limit ?? -1;
  const rows = options.now === undefined ? all(db, PENDING, agentIndex, limit) : all(db, PENDING_DUE, agentIndex, options.now, limit);
  return rows.map(toEntry);
}

/** Agents with pending triggers (due at `now` when given): who the scheduler should wake. */
export function agentsWithPendingInbox(db: Db, now?: number): number[] {
  return (now === undefined ? all(db, AGENTS) : all(db, AGENTS_DUE, now)).map((r) => r.agent_index);
}

/** Finishes a pending row; false if it was not pending (already handled by someone else). */
export function finishInbox(db: Db, id: number, status: Exclude<InboxStatus, 'pending'>, reason: string | null, now: number): boolean {
  return run(db, FINISH, status, reason, now, id).changes > 0;
}

/**
 * Finishes the agent's pending row (a tick consuming its trigger): true when it did; false when the
 * row is not pending or not the agent's (the caller reads it then, to say which).
 */
export function finishOwnInbox(db: Db, agentIndex: number, id: number, status: Exclude<InboxStatus, 'pending'>, reason: string | null, now: number): boolean {
  return run(db, FINISH_OWN, status, reason, now, id, agentIndex).changes > 0;
}

/** Counts a failed attempt and defers the pending row to `retryAt`. */
export function recordInboxAttempt(db: Db, id: number, options: { error: string; retryAt: number; now: number }): boolean {
  return run(db, ATTEMPT, options.error, options.retryAt, options.now, id).changes > 0;
}

/** Deletes finished rows last updated before `olderThan` (ms). */
export function pruneInbox(db: Db, olderThan: number): number {
  return run(db, PRUNE, olderThan).changes;
}

/** Pending rows per agent and the oldest one's creation time (for metrics: one grouped scan of the pending index). */
export function inboxDepth(db: Db): Array<{ agentIndex: number; pending: number; oldestCreatedAt: number }> {
  return all(db, DEPTH).map((r) => ({ agentIndex: r.agent_index, pending: r.pending, oldestCreatedAt: r.oldest }));
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
