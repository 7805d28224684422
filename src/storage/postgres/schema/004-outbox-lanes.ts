/**
 * Postgres migration 4: each outbox row's lane (SQLite's migration 5): conversation rows (lane 0)
 * are picked ahead of background rows (the agent's own copies, trajectory, snapshots: lane 1).
 */
import type { PgMigration } from '../migrations.js';

export const pgMigration004: PgMigration = {
  version: 4,
  name: 'outbox-lanes',
  sql: `
    ALTER TABLE outbox ADD COLUMN lane SMALLINT NOT NULL DEFAULT 0;
    UPDATE outbox SET lane = 1 WHERE target_json LIKE '{"type":"own"%';
    CREATE INDEX outbox_lane_due ON outbox (lane, next_attempt_at, id) WHERE status = 'pending';
  `,
};
