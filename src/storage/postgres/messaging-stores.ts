/**
 * Processed events, relay cursors and trajectory chain heads on Postgres: the messaging layer's
 * small tables (replay protection, resume points, the chain each agent's tick events extend).
 */
import type { Ex } from './executor.js';
import { parseJsonColumn } from './json.js';

/** True when the event id was already processed. */
export async function isProcessed(ex: Ex, eventId: string): Promise<boolean> {
  return (await ex.one(`SELECT 1 FROM processed_events WHERE event_id = $1`, [eventId])) !== undefined;
}

/** Records an event id as processed; false (the first outcome kept) if already there. */
export async function markProcessed(ex: Ex, eventId: string, outcome: string, now: number): Promise<boolean> {
  return (await ex.count(`INSERT INTO processed_events (event_id, outcome, processed_at) VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING`, [eventId, outcome, now])) > 0;
}

/** Forgets records older than `olderThan` (ms). */
export async function pruneProcessed(ex: Ex, olderThan: number): Promise<number> {
  return ex.count(`DELETE FROM processed_events WHERE processed_at < $1`, [olderThan]);
}

/** A relay's saved cursor (unix seconds). */
export async function getCursor(ex: Ex, relay: string): Promise<number | undefined> {
  return (await ex.one<{ cursor: number }>(`SELECT cursor FROM relay_cursors WHERE relay = $1`, [relay]))?.cursor;
}

/** Saves a relay's cursor; never moves backwards. */
export async function setCursor(ex: Ex, relay: string, cursor: number): Promise<void> {
  if (!Number.isInteger(cursor) || cursor < 0) throw new Error(`cursor must be a non-negative integer of seconds, got ${cursor}`);
  await ex.count(
    `INSERT INTO relay_cursors AS c (relay, cursor) VALUES ($1, $2) ON CONFLICT (relay) DO UPDATE SET cursor = greatest(c.cursor, excluded.cursor)`,
    [relay, cursor],
  );
}

/** Every relay's cursor. */
export async function listCursors(ex: Ex): Promise<Array<{ relay: string; cursor: number }>> {
  return ex.rows(`SELECT relay, cursor FROM relay_cursors ORDER BY relay`);
}

/** The agent's trajectory chain head (opaque JSON), or undefined. */
export async function getChainHead(ex: Ex, agentIndex: number): Promise<unknown> {
  const row = await ex.one<{ head_json: string }>(`SELECT head_json FROM chain_heads WHERE agent_index = $1`, [agentIndex]);
  return row ? parseJsonColumn<unknown>(row.head_json, 'chain_heads.head_json') : undefined;
}

/** Replaces the agent's chain head. */
export async function setChainHead(ex: Ex, agentIndex: number, head: unknown): Promise<void> {
  await ex.count(
    `INSERT INTO chain_heads (agent_index, head_json) VALUES ($1, $2) ON CONFLICT (agent_index) DO UPDATE SET head_json = excluded.head_json`,
    [agentIndex, JSON.stringify(head)],
  );
}
