/**
 * Per-agent key-value memory. Every statement names the agent index, so an agent's scoped store
 * can never read or write another agent's keys. Values are JSON; their bytes count towards the
 * agent's storage total (maintained by triggers, see schema 001).
 */
import type { JsonValue } from '../agent-types.js';
import { StorageInputError } from '../errors.js';
import type { Db } from './database.js';
import { all, get, run, sql } from './query.js';

/** Longest key accepted, in characters. */
export const MAX_KEY_LENGTH = 512;

const GET = sql<[number, string], { value_json: string }>(`SELECT value_json FROM kv WHERE agent_index = ? AND key = ?`);
const SET = sql<[number, string, string, number]>(`
  INSERT INTO kv (agent_index, key, value_json, updated_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (agent_index, key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at`);
const DELETE = sql<[number, string]>(`DELETE FROM kv WHERE agent_index = ? AND key = ?`);
const LIST_ALL = sql<[number, number], { key: string; value_json: string }>(`
  SELECT key, value_json FROM kv WHERE agent_index = ? ORDER BY key LIMIT ?`);
const LIST_FROM = sql<[number, string, number], { key: string; value_json: string }>(`
  SELECT key, value_json FROM kv WHERE agent_index = ? AND key >= ? ORDER BY key LIMIT ?`);
const LIST_RANGE = sql<[number, string, string, number], { key: string; value_json: string }>(`
  SELECT key, value_json FROM kv WHERE agent_index = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?`);

/** Checks a key; throws StorageInputError naming the problem. */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) throw new StorageInputError('kv key must be a non-empty string');
  if (key.length > MAX_KEY_LENGTH) throw new StorageInputError(`kv key is ${key.length} characters; the limit is ${MAX_KEY_LENGTH}`);
  return key;
}

/** Serializes a value; throws StorageInputError for what JSON cannot hold (undefined, functions, bigint, cycles). */
export function encodeValue(key: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new StorageInputError(`kv value for "${key}" is not JSON-serializable`, { cause });
  }
  if (text === undefined) throw new StorageInputError(`kv value for "${key}" is not JSON-serializable (got ${typeof value})`);
  return text;
}

/** The agent's value for `key`, or undefined. */
export function kvGet(db: Db, agentIndex: number, key: string): JsonValue | undefined {
  const row = get(db, GET, agentIndex, checkKey(key));
  return row ? (JSON.parse(row.value_json) as JsonValue) : undefined;
}

/** Sets the agent's `key` to a JSON value. */
export function kvSet(db: Db, agentIndex: number, key: string, value: unknown, now: number): void {
  checkKey(key);
  run(db, SET, agentIndex, key, encodeValue(key, value), now);
}

/** Deletes the agent's `key`; true when it existed. */
export function kvDelete(db: Db, agentIndex: number, key: string): boolean {
  return run(db, DELETE, agentIndex, checkKey(key)).changes > 0;
}

/** The agent's entries whose key starts with `prefix`, by key (an index range scan, not a filter). */
export function kvList(db: Db, agentIndex: number, prefix = '', limit = -1): Array<{ key: string; value: JsonValue }> {
  const upper = prefixUpperBound(prefix);
  const rows =
    prefix === '' ? all(db, LIST_ALL, agentIndex, limit)
    : upper === undefined ? all(db, LIST_FROM, agentIndex, prefix, limit)
    : all(db, LIST_RANGE, agentIndex, prefix, upper, limit);
  return rows.map((r) => ({ key: r.key, value: JSON.parse(r.value_json) as JsonValue }));
}

/**
 * The smallest string greater than every string starting with `prefix`: the prefix with its last
 * code point incremented (SQLite compares TEXT as UTF-8 bytes, whose order is code point order).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const points = Array.from(prefix);
  while (points.length > 0) {
    const last = (points.pop() as string).codePointAt(0) as number;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}
