/**
 * Small named values the composition keeps beside the agents' data (e.g. each agent's trajectory
 * chain head). Plain synchronous calls, so they join the caller's transaction. Prepared once per
 * database (query.ts): the chain head is read and written by every tick.
 */
import type { Db } from './database.js';
import { get, run, sql } from './query.js';

const GET = sql<[string], { value: string }>(`SELECT value FROM meta WHERE key = ?`);
const SET = sql<[string, string]>(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`);

/** The JSON stored under `key`, or undefined. */
export function getMeta<T>(db: Db, key: string): T | undefined {
  const row = get(db, GET, key);
  return row ? (JSON.parse(row.value) as T) : undefined;
}

/** Stores `value` (as JSON) under `key`. */
export function setMeta(db: Db, key: string, value: unknown): void {
  run(db, SET, key, JSON.stringify(value));
}
