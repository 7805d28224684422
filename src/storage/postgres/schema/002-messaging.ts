/**
 * Postgres migration 2: outbox, processed events, relay cursors (SQLite's migration 2), and each
 * agent's trajectory chain head in a table of its own (SQLite keeps it in meta).
 */
import type { PgMigration } from '../migrations.js';

export const pgMigration002: PgMigration = {
  version: 2,
  name: 'messaging',
  sql: `
    CREATE TABLE outbox (
      id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      agent_pubkey    TEXT COLLATE "C" NOT NULL,
      event_id        TEXT COLLATE "C" NOT NULL UNIQUE,
      event_json      TEXT NOT NULL,
      target_json     TEXT NOT NULL,
      status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
      attempts        INTEGER NOT NULL DEFAULT 0,
      next_attempt_at BIGINT NOT NULL,
      created_at      BIGINT NOT NULL,
      deadline_at     BIGINT NOT NULL,
      last_attempt_at BIGINT,
      accepted_json   TEXT NOT NULL DEFAULT '[]',
      results_json    TEXT NOT NULL DEFAULT '[]',
      last_error      TEXT,
      delivered_at    BIGINT,
      finished_at     BIGINT
    );
    CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
    CREATE INDEX outbox_agent_status ON outbox (agent_pubkey, status, id);
    CREATE INDEX outbox_finished ON outbox (finished_at) WHERE finished_at IS NOT NULL;

    CREATE TABLE processed_events (
      event_id     TEXT COLLATE "C" PRIMARY KEY,
      outcome      TEXT NOT NULL,
      processed_at BIGINT NOT NULL
    );
    CREATE INDEX processed_events_at ON processed_events (processed_at);

    CREATE TABLE relay_cursors (relay TEXT COLLATE "C" PRIMARY KEY, cursor BIGINT NOT NULL);

    CREATE TABLE chain_heads (
      agent_index INTEGER PRIMARY KEY REFERENCES agents (agent_index) ON DELETE CASCADE,
      head_json   TEXT NOT NULL
    );
  `,
};
