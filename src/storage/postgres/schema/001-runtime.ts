/**
 * Postgres migration 1: agents, memory, schedules, inbox, ticks and budgets — the same tables and
 * rules as SQLite's migration 1 (src/storage/sqlite/schema/001-runtime.ts), in Postgres terms:
 * BIGINT ms times, identity ids (never reused, like AUTOINCREMENT), TEXT JSON (stored as given, so
 * byte counts match SQLite's), COLLATE "C" where rows are ordered or range-scanned by text (byte
 * order, as SQLite compares), plpgsql triggers keeping agents.storage_bytes, and a tsvector column
 * with a GIN index for facts instead of FTS5.
 */
import type { PgMigration } from '../migrations.js';

/** AFTER triggers keeping agents.storage_bytes equal to the sum of `size` over `table`. */
function bytesTriggers(table: string, size: (row: 'NEW' | 'OLD') => string): string {
  return `
    CREATE FUNCTION ${table}_bytes() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE agents SET storage_bytes = storage_bytes - (${size('OLD')}) WHERE agent_index = OLD.agent_index;
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE agents SET storage_bytes = storage_bytes + (${size('NEW')}) WHERE agent_index = NEW.agent_index;
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER ${table}_bytes AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_bytes();`;
}

const b = (expr: string): string => `octet_length(${expr})`;

export const pgMigration001: PgMigration = {
  version: 1,
  name: 'runtime',
  sql: `
    CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE agents (
      agent_index          INTEGER PRIMARY KEY,
      name                 TEXT COLLATE "C" NOT NULL UNIQUE,
      account              INTEGER NOT NULL,
      pubkey               TEXT COLLATE "C" NOT NULL UNIQUE,
      behavior             TEXT NOT NULL,
      state                TEXT NOT NULL CHECK (state IN ('creating', 'active', 'dormant', 'paused', 'failed', 'terminated')),
      config_json          TEXT NOT NULL DEFAULT '{}',
      created_at           BIGINT NOT NULL,
      updated_at           BIGINT NOT NULL,
      last_tick_at         BIGINT,
      ticks                INTEGER NOT NULL DEFAULT 0,
      failures             INTEGER NOT NULL DEFAULT 0,
      consecutive_failures INTEGER NOT NULL DEFAULT 0,
      last_error           TEXT,
      storage_bytes        BIGINT NOT NULL DEFAULT 0
    );

    CREATE TABLE kv (
      agent_index INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      key         TEXT COLLATE "C" NOT NULL,
      value_json  TEXT NOT NULL,
      updated_at  BIGINT NOT NULL,
      PRIMARY KEY (agent_index, key)
    );
    ${bytesTriggers('kv', (r) => `${b(`${r}.key`)} + ${b(`${r}.value_json`)}`)}

    -- Full-text recall: a stopword-free English snowball stemmer (FTS5's porter tokenizer drops no
    -- words either); the text reaching to_tsvector is already lowercased, diacritic-folded and cut
    -- into letter/digit runs by the store, the way FTS5's unicode61 tokenizer cuts it.
    CREATE TEXT SEARCH DICTIONARY agent_stem (TEMPLATE = snowball, Language = english);
    CREATE TEXT SEARCH CONFIGURATION agent_fts (COPY = pg_catalog.english);
    ALTER TEXT SEARCH CONFIGURATION agent_fts ALTER MAPPING REPLACE english_stem WITH agent_stem;

    CREATE TABLE facts (
      id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      agent_index INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      text        TEXT NOT NULL,
      tags_json   TEXT NOT NULL DEFAULT '[]',
      created_at  BIGINT NOT NULL,
      -- Text weighted A, tags B: ranked 1.0 and 0.5, FTS5's bm25 column weights.
      search      TSVECTOR NOT NULL
    );
    CREATE INDEX facts_agent ON facts (agent_index, id);
    CREATE INDEX facts_search ON facts USING gin (search);
    ${bytesTriggers('facts', (r) => `${b(`${r}.text`)} + ${b(`${r}.tags_json`)}`)}

    CREATE TABLE messages (
      id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      agent_index INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      peer        TEXT COLLATE "C" NOT NULL,
      direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
      text        TEXT NOT NULL,
      event_id    TEXT,
      at          BIGINT NOT NULL
    );
    CREATE INDEX messages_peer ON messages (agent_index, peer, at, id);
    ${bytesTriggers('messages', (r) => b(`${r}.text`))}

    CREATE TABLE goals (
      id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      agent_index INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      text        TEXT NOT NULL,
      status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'dropped')),
      due_at      BIGINT,
      created_at  BIGINT NOT NULL,
      updated_at  BIGINT NOT NULL
    );
    CREATE INDEX goals_agent ON goals (agent_index, status, id);
    ${bytesTriggers('goals', (r) => b(`${r}.text`))}

    CREATE TABLE peers (
      agent_index   INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      pubkey        TEXT COLLATE "C" NOT NULL,
      first_seen    BIGINT NOT NULL,
      last_seen     BIGINT NOT NULL,
      message_count INTEGER NOT NULL DEFAULT 0,
      trust         TEXT NOT NULL DEFAULT 'unknown' CHECK (trust IN ('owner', 'trusted', 'known', 'unknown', 'blocked')),
      PRIMARY KEY (agent_index, pubkey)
    );

    CREATE TABLE schedules (
      id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      agent_index   INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      type          TEXT NOT NULL CHECK (type IN ('at', 'delayed', 'interval', 'cron')),
      spec_json     TEXT NOT NULL,
      payload_json  TEXT NOT NULL DEFAULT 'null',
      key           TEXT COLLATE "C",
      next_at       BIGINT NOT NULL,
      created_at    BIGINT NOT NULL,
      last_fired_at BIGINT,
      fire_count    INTEGER NOT NULL DEFAULT 0,
      UNIQUE (agent_index, key)
    );
    CREATE INDEX schedules_due ON schedules (next_at, id);
    CREATE INDEX schedules_agent ON schedules (agent_index, next_at);

    CREATE TABLE inbox (
      id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      agent_index  INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      trigger      TEXT NOT NULL CHECK (trigger IN ('dm', 'mention', 'alarm', 'event', 'manual')),
      event_id     TEXT,
      dedupe_key   TEXT COLLATE "C",
      sender       TEXT,
      payload_json TEXT NOT NULL DEFAULT 'null',
      status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed', 'refused')),
      attempts     INTEGER NOT NULL DEFAULT 0,
      not_before   BIGINT NOT NULL,
      created_at   BIGINT NOT NULL,
      updated_at   BIGINT NOT NULL,
      reason       TEXT,
      UNIQUE (agent_index, dedupe_key)
    );
    CREATE INDEX inbox_pending ON inbox (agent_index, id, not_before) WHERE status = 'pending';
    CREATE INDEX inbox_finished ON inbox (updated_at) WHERE status <> 'pending';

    CREATE TABLE ticks (
      agent_index        INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      seq                INTEGER NOT NULL,
      started_at         BIGINT NOT NULL,
      ended_at           BIGINT NOT NULL,
      trigger_type       TEXT NOT NULL,
      outcome            TEXT NOT NULL,
      error              TEXT,
      record_json        TEXT NOT NULL,
      published_event_id TEXT,
      published_at       BIGINT,
      PRIMARY KEY (agent_index, seq)
    );
    CREATE INDEX ticks_started ON ticks (agent_index, started_at);
    CREATE INDEX ticks_unpublished ON ticks (agent_index, seq) WHERE published_at IS NULL;

    CREATE TABLE budget_usage (
      agent_index INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      day         TEXT COLLATE "C" NOT NULL,
      compute_ms  BIGINT NOT NULL DEFAULT 0,
      llm_calls   BIGINT NOT NULL DEFAULT 0,
      tokens      BIGINT NOT NULL DEFAULT 0,
      sats        BIGINT NOT NULL DEFAULT 0,
      notified80  INTEGER NOT NULL DEFAULT 0,
      notified100 INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (agent_index, day)
    );
  `,
};
