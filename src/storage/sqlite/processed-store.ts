/**
 * Processed events: every event id the messaging layer has acted on (or deliberately dropped),
 * so the same event arriving again from another relay, or replayed after a restart, is harmless.
 */
import type { Db } from './database.js';
import { get, run, sql } from './query.js';

const EXISTS = sql<[string], { one: number }>(`SELECT 1 AS one FROM processed_events WHERE event_id = ?`);
const OUTCOME = sql<[string], { outcome: string; processed_at: number }>(`SELECT outcome, processed_at FROM processed_events WHERE event_id = ?`);
const MARK = sql<[string, string, number]>(`
  INSERT INTO processed_events (event_id, outcome, processed_at) VALUES (?, ?, ?) ON CONFLICT (event_id) DO NOTHING`);
const PRUNE = sql<[number]>(`DELETE FROM processed_events WHERE processed_at < ?`);

/** True when the event id was already processed. */
export function isProcessed(db: Db, eventId: string): boolean {
  return get(db, EXISTS, eventId) !== undefined;
}

/** The recorded outcome for an event id, if any (e.g. 'inbox', 'dropped:bad-seal'). */
export function getProcessed(db: Db, eventId: string): { outcome: string; processedAt: number } | undefined {
  const row = get(db, OUTCOME, eventId);
  return row ? { outcome: row.outcome, processedAt: row.processed_at } : undefined;
}

/** Records an event id as processed. Idempotent: returns false (and keeps the first outcome) if already there. */
export function markProcessed(db: Db, eventId: string, outcome: string, now: number): boolean {
  return run(db, MARK, eventId, outcome, now).changes > 0;
}

/**
 * Forgets records older than `olderThan` (ms); returns how many. Keep them longer than the
 * resubscribe look-back (gift wraps reach two days into the past) or replays become possible.
 */
export function pruneProcessed(db: Db, olderThan: number): number {
  return run(db, PRUNE, olderThan).changes;
}
