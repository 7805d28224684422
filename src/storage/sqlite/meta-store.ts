/**
 * Small named values the composition keeps beside the agents' data (e.g. each agent's trajectory
 * chain head). Plain synchronous calls, so they join the caller's transaction.
 */
import type { Db } from './database.js';

/** The JSON stored under `key`, or undefined. */
export function getMeta<T>(db: Db, key: string): T | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
  return row ? (JSON.parse(row.value) as T) : undefined;
}

/** Stores `value` (as JSON) under `key`. */
export function setMeta(db: Db, key: string, value: unknown): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
}
