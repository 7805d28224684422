/** Postgres migration 3: the daemon registry and one lease row per agent (src/storage/lease-types.ts). */
import type { PgMigration } from '../migrations.js';

export const pgMigration003: PgMigration = {
  version: 3,
  name: 'leases',
  sql: `
    -- Every daemon that runs (or ran) on this database, with its heartbeat.
    CREATE TABLE daemons (
      id           TEXT COLLATE "C" PRIMARY KEY,
      host         TEXT NOT NULL,
      pid          INTEGER NOT NULL,
      started_at   BIGINT NOT NULL,
      heartbeat_at BIGINT NOT NULL,
      lease_ms     INTEGER NOT NULL,
      capacity     INTEGER,
      shard        TEXT,
      stopping     BOOLEAN NOT NULL DEFAULT false
    );

    -- Who holds each agent, until when, under which epoch (bumped by every claim).
    CREATE TABLE agent_leases (
      agent_index INTEGER PRIMARY KEY REFERENCES agents (agent_index) ON DELETE CASCADE,
      daemon_id   TEXT COLLATE "C",
      epoch       BIGINT NOT NULL DEFAULT 0,
      expires_at  BIGINT NOT NULL DEFAULT 0,
      cursor      BIGINT
    );
    CREATE INDEX agent_leases_daemon ON agent_leases (daemon_id);
  `,
};
