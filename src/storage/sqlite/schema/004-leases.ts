/** Migration 4: the daemon registry and one lease row per agent (src/storage/lease-types.ts). */
import type { Migration } from '../migrations.js';

export const migration004: Migration = {
  version: 4,
  name: 'leases',
  sql: `
    -- Every daemon that runs (or ran) on this database, with its heartbeat.
    CREATE TABLE daemons (
      id           TEXT PRIMARY KEY,
      host         TEXT NOT NULL,
      pid          INTEGER NOT NULL,
      started_at   INTEGER NOT NULL,
      heartbeat_at INTEGER NOT NULL,
      lease_ms     INTEGER NOT NULL,
      capacity     INTEGER,
      shard        TEXT,
      stopping     INTEGER NOT NULL DEFAULT 0
    );

    -- Who holds each agent, until when, under which epoch (bumped by every claim).
    CREATE TABLE agent_leases (
      agent_index INTEGER PRIMARY KEY REFERENCES agents (agent_index) ON DELETE CASCADE,
      daemon_id   TEXT,
      epoch       INTEGER NOT NULL DEFAULT 0,
      expires_at  INTEGER NOT NULL DEFAULT 0,
      cursor      INTEGER
    );
    CREATE INDEX agent_leases_daemon ON agent_leases (daemon_id);
  `,
};
