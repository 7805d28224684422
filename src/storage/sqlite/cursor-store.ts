/**
 * Relay cursors: the newest `created_at` (unix seconds) seen per relay, so a reconnect subscribes
 * with `since` instead of replaying history. A cursor only moves forward.
 */
import type { Db } from './database.js';
import { all, get, run, sql } from './query.js';

const GET = sql<[string], { cursor: number }>(`SELECT cursor FROM relay_cursors WHERE relay = ?`);
const LIST = sql<[], { relay: string; cursor: number }>(`SELECT relay, cursor FROM relay_cursors ORDER BY relay`);
const SET = sql<[string, number]>(`
  INSERT INTO relay_cursors (relay, cursor) VALUES (?, ?)
  ON CONFLICT (relay) DO UPDATE SET cursor = max(cursor, excluded.cursor)`);

/** The saved cursor for a relay URL (unix seconds), or undefined if never set. */
export function getCursor(db: Db, relay: string): number | undefined {
  return get(db, GET, relay)?.cursor;
}

/** Saves a relay's cursor; a value older than the stored one is ignored (never moves backwards). */
export function setCursor(db: Db, relay: string, cursor: number): void {
  if (!Number.isInteger(cursor) || cursor < 0) throw new Error(`cursor must be a non-negative integer of seconds, got ${cursor}`);
  run(db, SET, relay, cursor);
}

/** Every relay's cursor. */
export function listCursors(db: Db): Array<{ relay: string; cursor: number }> {
  return all(db, LIST);
}
