/**
 * Migration 1: agents, memory, schedules, inbox, ticks and budgets (the runtime's tables).
 * Every per-agent table is keyed by `agent_index` (never one table per agent: a daemon hosts
 * thousands). `agents.storage_bytes` is a running total kept by triggers on kv, facts, messages
 * and goals, so the storage budget is checked without scanning.
 */
import type { Migration } from '../migrations.js';

/** Bytes of a TEXT value as stored (UTF-8). */
const b = (expr: string): string => `length(CAST(${expr} AS BLOB))`;

/** AFTER INSERT/UPDATE/DELETE triggers keeping agents.storage_bytes equal to the sum of `size` over `table`. */
function bytesTriggers(table: string, size: (row: 'NEW' | 'OLD') => string): string {
  const add = (row: 'NEW' | 'OLD', sign: '+' | '-'): string =>
    `UPDATE agents SET storage_bytes = storage_bytes ${sign} (${size(row)}) WHERE agent_index = ${row}.agent_index;`;
  return `
    CREATE TRIGGER ${table}_bytes_ins AFTER INSERT ON ${table} BEGIN ${add('NEW', '+')} END;
    CREATE TRIGGER ${table}_bytes_upd AFTER UPDATE ON ${table} BEGIN ${add('OLD', '-')} ${add('NEW', '+')} END;
    CREATE TRIGGER ${table}_bytes_del AFTER DELETE ON ${table} BEGIN ${add('OLD', '-')} END;`;
}

export const migration001: Migration = {
  version: 1,
  name: 'runtime',
  sql: `
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE agents (
      agent_index          INTEGER PRIMARY KEY,
      name                 TEXT NOT NULL UNIQUE,
      account              INTEGER NOT NULL,
      pubkey               TEXT NOT NULL UNIQUE,
      behavior             TEXT NOT NULL,
      state                TEXT NOT NULL CHECK (state IN ('creating', 'active', 'dormant', 'paused', 'failed', 'terminated')),
      config_json          TEXT NOT NULL DEFAULT '{}',
      created_at           INTEGER NOT NULL,
      updated_at           INTEGER NOT NULL,
      last_tick_at         INTEGER,
      ticks                INTEGER NOT NULL DEFAULT 0,
      failures             INTEGER NOT NULL DEFAULT 0,
      consecutive_failures INTEGER NOT NULL DEFAULT 0,
      last_error           TEXT,
      storage_bytes        INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE kv (
      agent_index INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      key         TEXT NOT NULL,
      value_json  TEXT NOT NULL,
      updated_at  INTEGER NOT NULL,
      PRIMARY KEY (agent_index, key)
    ) WITHOUT ROWID;
    ${bytesTriggers('kv', (r) => `${b(`${r}.key`)} + ${b(`${r}.value_json`)}`)}

    CREATE TABLE facts (
      id          INTEGER PRIMARY KEY,
      agent_index INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      text        TEXT NOT NULL,
      tags_json   TEXT NOT NULL DEFAULT '[]',
      created_at  INTEGER NOT NULL
    );
    CREATE INDEX facts_agent ON facts (agent_index, id);
    ${bytesTriggers('facts', (r) => `${b(`${r}.text`)} + ${b(`${r}.tags_json`)}`)}
    -- Contentless full-text index: the text lives in facts. agent_tag ('a' || index) lets one
    -- MATCH both scope to an agent and search, instead of filtering every agent's hits afterwards.
    CREATE VIRTUAL TABLE facts_fts USING fts5 (
      agent_tag, text, tags, content = '', contentless_delete = 1, tokenize = 'porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER facts_fts_ins AFTER INSERT ON facts BEGIN
      INSERT INTO facts_fts (rowid, agent_tag, text, tags)
      VALUES (NEW.id, 'a' || NEW.agent_index, NEW.text, (SELECT group_concat(value, ' ') FROM json_each(NEW.tags_json)));
    END;
    CREATE TRIGGER facts_fts_del AFTER DELETE ON facts BEGIN DELETE FROM facts_fts WHERE rowid = OLD.id; END;

    CREATE TABLE messages (
      id          INTEGER PRIMARY KEY,
      agent_index INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      peer        TEXT NOT NULL,
      direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
      text        TEXT NOT NULL,
      event_id    TEXT,
      at          INTEGER NOT NULL
    );
    CREATE INDEX messages_peer ON messages (agent_index, peer, at, id);
    ${bytesTriggers('messages', (r) => b(`${r}.text`))}

    CREATE TABLE goals (
      id          INTEGER PRIMARY KEY,
      agent_index INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      text        TEXT NOT NULL,
      status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'dropped')),
      due_at      INTEGER,
      created_at  INTEGER NOT NULL,
      updated_at  INTEGER NOT NULL
    );
    CREATE INDEX goals_agent ON goals (agent_index, status, id);
    ${bytesTriggers('goals', (r) => b(`${r}.text`))}

    CREATE TABLE peers (
      agent_index   INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      pubkey        TEXT NOT NULL,
      first_seen    INTEGER NOT NULL,
      last_seen     INTEGER NOT NULL,
      message_count INTEGER NOT NULL DEFAULT 0,
      trust         TEXT NOT NULL DEFAULT 'unknown' CHECK (trust IN ('owner', 'trusted', 'known', 'unknown', 'blocked')),
      PRIMARY KEY (agent_index, pubkey)
    ) WITHOUT ROWID;

    -- AUTOINCREMENT: ids are never reused, so an alarm's dedupe key (id + due time) stays unique.
    CREATE TABLE schedules (
      id            INTEGER PRIMARY KEY AUTOINCREMENT,
      agent_index   INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      type          TEXT NOT NULL CHECK (type IN ('at', 'delayed', 'interval', 'cron')),
      spec_json     TEXT NOT NULL,
      payload_json  TEXT NOT NULL DEFAULT 'null',
      key           TEXT,
      next_at       INTEGER NOT NULL,
      created_at    INTEGER NOT NULL,
      last_fired_at INTEGER,
      fire_count    INTEGER NOT NULL DEFAULT 0,
      UNIQUE (agent_index, key)
    );
    CREATE INDEX schedules_due ON schedules (next_at, id);
    CREATE INDEX schedules_agent ON schedules (agent_index, next_at);

    CREATE TABLE inbox (
      id           INTEGER PRIMARY KEY AUTOINCREMENT,
      agent_index  INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      trigger      TEXT NOT NULL CHECK (trigger IN ('dm', 'mention', 'alarm', 'event', 'manual')),
      event_id     TEXT,
      dedupe_key   TEXT,
      sender       TEXT,
      payload_json TEXT NOT NULL DEFAULT 'null',
      status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed', 'refused')),
      attempts     INTEGER NOT NULL DEFAULT 0,
      not_before   INTEGER NOT NULL,
      created_at   INTEGER NOT NULL,
      updated_at   INTEGER NOT NULL,
      reason       TEXT,
      UNIQUE (agent_index, dedupe_key)
    );
    -- Pending rows only; not_before makes "which agents have due triggers" an index-only scan.
    CREATE INDEX inbox_pending ON inbox (agent_index, id, not_before) WHERE status = 'pending';
    CREATE INDEX inbox_finished ON inbox (updated_at) WHERE status <> 'pending';

    CREATE TABLE ticks (
      agent_index        INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      seq                INTEGER NOT NULL,
      started_at         INTEGER NOT NULL,
      ended_at           INTEGER NOT NULL,
      trigger_type       TEXT NOT NULL,
      outcome            TEXT NOT NULL,
      error              TEXT,
      record_json        TEXT NOT NULL,
      published_event_id TEXT,
      published_at       INTEGER,
      PRIMARY KEY (agent_index, seq)
    ) WITHOUT ROWID;
    CREATE INDEX ticks_started ON ticks (agent_index, started_at);
    CREATE INDEX ticks_unpublished ON ticks (agent_index, seq) WHERE published_at IS NULL;

    CREATE TABLE budget_usage (
      agent_index INTEGER NOT NULL REFERENCES agents (agent_index) ON DELETE CASCADE,
      day         TEXT NOT NULL,
      compute_ms  INTEGER NOT NULL DEFAULT 0,
      llm_calls   INTEGER NOT NULL DEFAULT 0,
      tokens      INTEGER NOT NULL DEFAULT 0,
      sats        INTEGER NOT NULL DEFAULT 0,
      notified80  INTEGER NOT NULL DEFAULT 0,
      notified100 INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (agent_index, day)
    ) WITHOUT ROWID;
  `,
};
