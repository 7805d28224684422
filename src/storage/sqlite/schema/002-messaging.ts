/** Migration 2: outbox, processed events and relay cursors (the messaging layer's tables). */
import type { Migration } from '../migrations.js';

export const migration002: Migration = {
  version: 2,
  name: 'messaging',
  sql: `
    -- The durable outbox: signed events written in the tick's transaction, published afterwards.
    CREATE TABLE outbox (
      id              INTEGER PRIMARY KEY,
      agent_pubkey    TEXT NOT NULL,
      event_id        TEXT NOT NULL UNIQUE,
      event_json      TEXT NOT NULL,
      target_json     TEXT NOT NULL,
      status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
      attempts        INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL,
      created_at      INTEGER NOT NULL,
      deadline_at     INTEGER NOT NULL,
      last_attempt_at INTEGER,
      accepted_json   TEXT NOT NULL DEFAULT '[]',
      results_json    TEXT NOT NULL DEFAULT '[]',
      last_error      TEXT,
      delivered_at    INTEGER,
      finished_at     INTEGER
    );
    -- Only pending rows are ever polled; a partial index keeps it small as delivered rows pile up.
    CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
    CREATE INDEX outbox_agent_status ON outbox (agent_pubkey, status, id);
    CREATE INDEX outbox_finished ON outbox (finished_at) WHERE finished_at IS NOT NULL;

    -- Every event id the messaging layer has acted on, so a replay from any relay is harmless.
    CREATE TABLE processed_events (
      event_id     TEXT PRIMARY KEY,
      outcome      TEXT NOT NULL,
      processed_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX processed_events_at ON processed_events (processed_at);

    -- Per-relay subscription cursor (unix seconds), so a reconnect resumes where it left off.
    CREATE TABLE relay_cursors (relay TEXT PRIMARY KEY, cursor INTEGER NOT NULL) WITHOUT ROWID;
  `,
};
