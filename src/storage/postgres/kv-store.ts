/**
 * Per-agent key-value memory on Postgres. Every statement names the agent index; keys are COLLATE
 * "C" so listing and prefix ranges follow byte (code point) order, as on SQLite.
 */
import type { JsonValue } from '../agent-types.js';
import { checkKey, encodeValue, prefixUpperBound } from '../sqlite/kv-store.js';
import type { Ex } from './executor.js';
import { limitOrAll } from './json.js';

/** The agent's value for `key`, or undefined. */
export async function kvGet(ex: Ex, agentIndex: number, key: string): Promise<JsonValue | undefined> {
  const row = await ex.one<{ value_json: string }>(`SELECT value_json FROM kv WHERE agent_index = $1 AND key = $2`, [agentIndex, checkKey(key)]);
  return row ? (JSON.parse(row.value_json) as JsonValue) : undefined;
}

/** Sets the agent's `key` to a JSON value. */
export async function kvSet(ex: Ex, agentIndex: number, key: string, value: unknown, now: number): Promise<void> {
  checkKey(key);
  await ex.count(
    `INSERT INTO kv (agent_index, key, value_json, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (agent_index, key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at`,
    [agentIndex, key, encodeValue(key, value), now],
  );
}

/** Deletes the agent's `key`; true when it existed. */
export async function kvDelete(ex: Ex, agentIndex: number, key: string): Promise<boolean> {
  return (await ex.count(`DELETE FROM kv WHERE agent_index = $1 AND key = $2`, [agentIndex, checkKey(key)])) > 0;
}

/** The agent's entries whose key starts with `prefix`, by key (an index range scan). */
export async function kvList(ex: Ex, agentIndex: number, prefix = '', limit?: number): Promise<Array<{ key: string; value: JsonValue }>> {
  const upper = prefix === '' ? undefined : prefixUpperBound(prefix);
  const where = prefix === '' ? '' : upper === undefined ? 'AND key >= $3' : 'AND key >= $3 AND key < $4';
  const params: unknown[] = [agentIndex, limitOrAll(limit)];
  if (prefix !== '') params.push(prefix);
  if (upper !== undefined) params.push(upper);
  const rows = await ex.rows<{ key: string; value_json: string }>(
    `SELECT key, value_json FROM kv WHERE agent_index = $1 ${where} ORDER BY key LIMIT $2`,
    params,
  );
  return rows.map(toKvEntry);
}

/** A kv entry from its row (as kvList and the memory export select it). */
export function toKvEntry(row: { key: string; value_json: string }): { key: string; value: JsonValue } {
  return { key: row.key, value: JSON.parse(row.value_json) as JsonValue };
}
