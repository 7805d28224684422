/**
 * Migration 5: each outbox row's lane, so the sender can pick conversation rows (a DM or reply
 * someone waits for: lane 0) ahead of background rows (the agent's own copies, trajectory, session,
 * profile and snapshot events: lane 1) without reading every row's target.
 */
import type { Migration } from '../migrations.js';

export const migration005: Migration = {
  version: 5,
  name: 'outbox-lanes',
  sql: `
    ALTER TABLE outbox ADD COLUMN lane INTEGER NOT NULL DEFAULT 0;
    UPDATE outbox SET lane = 1 WHERE target_json LIKE '{"type":"own"%';
    CREATE INDEX outbox_lane_due ON outbox (lane, next_attempt_at, id) WHERE status = 'pending';
  `,
};
