/**
 * The relay database schema as numbered migrations, tracked in `PRAGMA user_version`.
 * Append a migration to change the schema; never edit one that has shipped.
 */
import type Database from 'better-sqlite3';

/** Migration n (1-based) is MIGRATIONS[n - 1]. */
export const MIGRATIONS: readonly string[] = [
  // 1: events, a tag index, FTS5 over content.
  `
  CREATE TABLE events (
    seq        INTEGER PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    pubkey     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    kind       INTEGER NOT NULL,
    d_tag      TEXT,              -- '' for replaceable kinds, the d value for addressable ones, else NULL
    expiration INTEGER,           -- NIP-40, unix seconds
    raw        TEXT    NOT NULL   -- the event's JSON, sent to clients as is
  );
  CREATE INDEX events_by_time        ON events (created_at DESC, id);
  CREATE INDEX events_by_author_kind ON events (pubkey, kind, created_at DESC, id);
  CREATE INDEX events_by_kind        ON events (kind, created_at DESC, id);
  CREATE INDEX events_by_address     ON events (pubkey, kind, d_tag) WHERE d_tag IS NOT NULL;
  CREATE INDEX events_by_expiration  ON events (expiration) WHERE expiration IS NOT NULL;

  -- Single-letter tags, one row per distinct (event, name, value).
  CREATE TABLE tags (
    seq        INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (seq, name, value)
  ) WITHOUT ROWID;
  CREATE INDEX tags_by_value ON tags (name, value, created_at DESC);

  -- NIP-50: contentless, rowid = events.seq; the text itself lives in events.raw.
  CREATE VIRTUAL TABLE events_fts USING fts5(
    content, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
  );
  `,
];

/** Applies pending migrations, each in its own transaction. Refuses a database newer than this code. */
export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`relay database schema is version ${current}, newer than this relay (${MIGRATIONS.length})`);
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] ?? '');
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
