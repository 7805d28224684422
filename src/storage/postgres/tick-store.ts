/** The local trajectory on Postgres: one row per tick, the full TickRecord as JSON, `seq` unique per agent. */
import type { TickRecord } from '../../trajectory/types.js';
import { StorageConflictError, StorageInputError } from '../errors.js';
import type { Ex } from './executor.js';
import { limitOrAll, parseJsonColumn } from './json.js';

type Row = { record_json: string };

/** The seq the agent's next tick gets: 1 for the first, then one past the last. */
export async function nextTickSeq(ex: Ex, agentIndex: number): Promise<number> {
  return (await ex.one<{ next: number }>(`SELECT coalesce(max(seq) + 1, 1) AS next FROM ticks WHERE agent_index = $1`, [agentIndex]))?.next ?? 1;
}

/** Stores a tick; StorageConflictError when the agent already has that seq. */
export async function appendTick(ex: Ex, agentIndex: number, record: TickRecord): Promise<void> {
  if (!Number.isInteger(record.seq) || record.seq < 1) throw new StorageInputError(`tick seq must be a positive integer, got ${record.seq}`);
  const changed = await ex.count(
    `INSERT INTO ticks (agent_index, seq, started_at, ended_at, trigger_type, outcome, error, record_json)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (agent_index, seq) DO NOTHING`,
    [agentIndex, record.seq, record.startedAt, record.endedAt, record.trigger.type, record.outcome, record.error ?? null, JSON.stringify(record)],
  );
  if (changed === 0) throw new StorageConflictError(`agent ${agentIndex} already has tick ${record.seq}`);
}

/** One tick by seq. */
export async function getTick(ex: Ex, agentIndex: number, seq: number): Promise<TickRecord | undefined> {
  const row = await ex.one<Row>(`SELECT record_json FROM ticks WHERE agent_index = $1 AND seq = $2`, [agentIndex, seq]);
  return row ? decode(row) : undefined;
}

/** The agent's last tick. */
export async function lastTick(ex: Ex, agentIndex: number): Promise<TickRecord | undefined> {
  const row = await ex.one<Row>(`SELECT record_json FROM ticks WHERE agent_index = $1 ORDER BY seq DESC LIMIT 1`, [agentIndex]);
  return row ? decode(row) : undefined;
}

/** Ticks ascending by seq: after `afterSeq` (paging forward), else the latest `limit`; `since` filters by start. */
export async function listTicks(ex: Ex, agentIndex: number, options: { afterSeq?: number; since?: number; limit?: number } = {}): Promise<TickRecord[]> {
  const since = options.since ?? 0;
  const limit = limitOrAll(options.limit);
  if (options.afterSeq !== undefined) {
    return (await ex.rows<Row>(
      `SELECT record_json FROM ticks WHERE agent_index = $1 AND seq > $2 AND started_at >= $3 ORDER BY seq LIMIT $4`,
      [agentIndex, options.afterSeq, since, limit],
    )).map(decode);
  }
  const rows = await ex.rows<Row>(`SELECT record_json FROM ticks WHERE agent_index = $1 AND started_at >= $2 ORDER BY seq DESC LIMIT $3`, [agentIndex, since, limit]);
  return rows.reverse().map(decode);
}

/** The trigger event ids of the latest ticks (see TickStore.triggers), ascending. */
export async function tickTriggers(ex: Ex, agentIndex: number, options: { since: number; limit: number }): Promise<Array<{ eventId: string; startedAt: number }>> {
  const rows = await ex.rows<{ event_id: string | null; started_at: number | string }>(
    `SELECT (record_json::json) -> 'trigger' ->> 'eventId' AS event_id, started_at FROM ticks WHERE agent_index = $1 AND started_at >= $2 ORDER BY seq DESC LIMIT $3`,
    [agentIndex, options.since, options.limit],
  );
  const out: Array<{ eventId: string; startedAt: number }> = [];
  for (const row of rows) if (typeof row.event_id === 'string') out.push({ eventId: row.event_id, startedAt: Number(row.started_at) });
  return out.reverse();
}

/** Ticks not yet published as trajectory events, ascending. */
export async function unpublishedTicks(ex: Ex, agentIndex: number, limit = 100): Promise<TickRecord[]> {
  return (await ex.rows<Row>(`SELECT record_json FROM ticks WHERE agent_index = $1 AND published_at IS NULL ORDER BY seq LIMIT $2`, [agentIndex, limit])).map(decode);
}

/** Records that a tick went out as trajectory event `eventId`. */
export async function markTickPublished(ex: Ex, agentIndex: number, seq: number, eventId: string, now: number): Promise<boolean> {
  return (await ex.count(`UPDATE ticks SET published_event_id = $1, published_at = $2 WHERE agent_index = $3 AND seq = $4`, [eventId, now, agentIndex, seq])) > 0;
}

function decode(row: Row): TickRecord {
  return parseJsonColumn<TickRecord>(row.record_json, 'ticks.record_json');
}
