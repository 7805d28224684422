/**
 * The local trajectory: one row per tick with the full TickRecord as JSON, plus the columns the
 * listings filter on. `seq` is unique per agent, so a tick can never be recorded twice.
 */
import type { TickRecord } from '../../trajectory/types.js';
import { StorageConflictError, StorageInputError } from '../errors.js';
import type { Db } from './database.js';
import { all, get, parseJsonColumn, run, sql } from './query.js';

const NEXT_SEQ = sql<[number], { next: number }>(`SELECT coalesce(max(seq) + 1, 1) AS next FROM ticks WHERE agent_index = ?`);
const INSERT = sql<[number, number, number, number, string, string, string | null, string]>(`
  INSERT INTO ticks (agent_index, seq, started_at, ended_at, trigger_type, outcome, error, record_json)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (agent_index, seq) DO NOTHING`);
const GET = sql<[number, number], { record_json: string }>(`SELECT record_json FROM ticks WHERE agent_index = ? AND seq = ?`);
const LAST = sql<[number], { record_json: string }>(`SELECT record_json FROM ticks WHERE agent_index = ? ORDER BY seq DESC LIMIT 1`);
const AFTER = sql<[number, number, number, number], { record_json: string }>(`
  SELECT record_json FROM ticks WHERE agent_index = ? AND seq > ? AND started_at >= ? ORDER BY seq LIMIT ?`);
const LATEST = sql<[number, number, number], { record_json: string }>(`
  SELECT record_json FROM ticks WHERE agent_index = ? AND started_at >= ? ORDER BY seq DESC LIMIT ?`);
const TRIGGERS = sql<[number, number, number], { event_id: unknown; started_at: number }>(`
  SELECT json_extract(record_json, '$.trigger.eventId') AS event_id, started_at FROM ticks
  WHERE agent_index = ? AND started_at >= ? ORDER BY seq DESC LIMIT ?`);
const UNPUBLISHED = sql<[number, number], { record_json: string }>(`
  SELECT record_json FROM ticks WHERE agent_index = ? AND published_at IS NULL ORDER BY seq LIMIT ?`);
const PUBLISHED = sql<[string, number, number, number]>(`
  UPDATE ticks SET published_event_id = ?, published_at = ? WHERE agent_index = ? AND seq = ?`);

/** The seq an agent's next tick gets: 1 for the first, then one past the last (no gaps). */
export function nextTickSeq(db: Db, agentIndex: number): number {
  return get(db, NEXT_SEQ, agentIndex)?.next ?? 1;
}

/** Stores a tick; StorageConflictError when the agent already has that seq (a tick committed twice). */
export function appendTick(db: Db, agentIndex: number, record: TickRecord): void {
  if (!Number.isInteger(record.seq) || record.seq < 1) throw new StorageInputError(`tick seq must be a positive integer, got ${record.seq}`);
  const result = run(db, INSERT, agentIndex, record.seq, record.startedAt, record.endedAt, record.trigger.type, record.outcome, record.error ?? null, JSON.stringify(record));
  if (result.changes === 0) throw new StorageConflictError(`agent ${agentIndex} already has tick ${record.seq}`);
}

/** One tick by seq. */
export function getTick(db: Db, agentIndex: number, seq: number): TickRecord | undefined {
  const row = get(db, GET, agentIndex, seq);
  return row ? decode(row) : undefined;
}

/** The agent's last tick. */
export function lastTick(db: Db, agentIndex: number): TickRecord | undefined {
  const row = get(db, LAST, agentIndex);
  return row ? decode(row) : undefined;
}

/**
 * Ticks ascending by seq. With `afterSeq`, the first `limit` after it (paging forward); without,
 * the latest `limit` (all when no limit). `since` (ms) keeps ticks that started at or after it.
 */
export function listTicks(db: Db, agentIndex: number, options: { afterSeq?: number; since?: number; limit?: number } = {}): TickRecord[] {
  const since = options.since ?? 0;
  const limit = options.limit ?? -1;
  if (options.afterSeq !== undefined) return all(db, AFTER, agentIndex, options.afterSeq, since, limit).map(decode);
  return all(db, LATEST, agentIndex, since, limit).reverse().map(decode);
}

/** The trigger event ids of the latest ticks (see TickStore.triggers), ascending. */
export function tickTriggers(db: Db, agentIndex: number, options: { since: number; limit: number }): Array<{ eventId: string; startedAt: number }> {
  const out: Array<{ eventId: string; startedAt: number }> = [];
  for (const row of all(db, TRIGGERS, agentIndex, options.since, options.limit)) if (typeof row.event_id === 'string') out.push({ eventId: row.event_id, startedAt: row.started_at });
  return out.reverse();
}

/** Ticks not yet published as trajectory events, ascending (the publisher chains them in order). */
export function unpublishedTicks(db: Db, agentIndex: number, limit = 100): TickRecord[] {
  return all(db, UNPUBLISHED, agentIndex, limit).map(decode);
}

/** Records that a tick went out as trajectory event `eventId`. */
export function markTickPublished(db: Db, agentIndex: number, seq: number, eventId: string, now: number): boolean {
  return run(db, PUBLISHED, eventId, now, agentIndex, seq).changes > 0;
}

function decode(row: { record_json: string }): TickRecord {
  return parseJsonColumn<TickRecord>(row.record_json, 'ticks.record_json');
}
