/**
 * Numbered migrations, applied in order inside one transaction each. The `schema_version` table
 * (one row per applied step) is the record; `PRAGMA user_version` mirrors the latest number for
 * tools and for databases made before the table existed. A migration is never edited once
 * released: add the next number instead. A database newer than the code is refused untouched.
 */
import { DatabaseOpenError } from '../errors.js';
import type { Db } from './database.js';
import { migration001 } from './schema/001-runtime.js';
import { migration002 } from './schema/002-messaging.js';
import { migration003 } from './schema/003-schema-version.js';
import { migration004 } from './schema/004-leases.js';
import { migration005 } from './schema/005-outbox-lanes.js';

/** One schema step. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = [migration001, migration002, migration003, migration004, migration005];

/** The latest schema version this code knows. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** The database's schema version: the highest schema_version row, else `user_version` (0 for a new file). */
export function schemaVersion(db: Db): number {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  const recorded = table ? ((db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null }).v ?? 0) : 0;
  return Math.max(recorded, db.pragma('user_version', { simple: true }) as number);
}

/** DATABASE_SCHEMA_NEWER unless the database's schema is one this code knows. */
export function assertSchemaKnown(db: Db, name: string): number {
  const version = schemaVersion(db);
  if (version > LATEST_SCHEMA_VERSION) {
    throw new DatabaseOpenError('DATABASE_SCHEMA_NEWER', `database ${name} has schema version ${version}, newer than this runtime knows (${LATEST_SCHEMA_VERSION}): upgrade the runtime; nothing was changed`);
  }
  return version;
}

/** Applies every migration newer than the database's schema version (refusing a newer database). */
export function migrate(db: Db, name = 'sqlite'): void {
  const current = assertSchemaKnown(db, name);
  if (current === LATEST_SCHEMA_VERSION) return;
  db.transaction(() => {
    db.exec(migration003.sql);
    // Backfill rows for steps applied before the table existed (recorded in user_version only).
    const insert = db.prepare('INSERT OR IGNORE INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of MIGRATIONS) if (m.version <= current) insert.run(m.version, m.name, Date.now());
  })();
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT OR IGNORE INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
