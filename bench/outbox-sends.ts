/**
 * When a run's background rows (self copies, trajectory, session and snapshot events) went out,
 * read from the daemon's SQLite file after the run: how many of those queued during the measured
 * window were also sent inside it, how many after it (held past its end, or sent at the stop's
 * drain), and how many are still pending. The outbox holds background rows while DMs flow
 * (src/relay/outbox-hold.ts), so a figure of the window should say how much of their work fell in it.
 */
import { openDatabase } from '../src/storage/sqlite/database.js';
import { LANE_NUMBER } from '../src/storage/outbox-lane.js';

/** Background rows queued in [from, to] (ms since the epoch): sent in the window, sent after it, still pending. */
export interface BackgroundSends {
  queued: number;
  sentInWindow: number;
  sentAfter: number;
  pending: number;
}

/** Reads `BackgroundSends` from the daemon's database file (read-only; after the daemon stopped, or while it runs: WAL). */
export function backgroundSends(file: string, from: number, to: number): BackgroundSends {
  const db = openDatabase(file, { readonly: true });
  try {
    const row = db
      .prepare<[number, number, number, number, number], { queued: number; inWindow: number | null; after: number | null; pending: number | null }>(
        `SELECT count(*) AS queued, sum(status = 'delivered' AND delivered_at <= ?) AS inWindow, sum(status = 'delivered' AND delivered_at > ?) AS after,
           sum(status = 'pending') AS pending
         FROM outbox WHERE lane = ? AND created_at BETWEEN ? AND ?`,
      )
      .get(to, to, LANE_NUMBER.background, from, to)!;
    return { queued: row.queued, sentInWindow: row.inWindow ?? 0, sentAfter: row.after ?? 0, pending: row.pending ?? 0 };
  } finally {
    db.close();
  }
}
