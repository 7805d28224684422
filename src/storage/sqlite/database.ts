/**
 * Opening the project's SQLite database: WAL journal, foreign keys on, migrations applied.
 * One file per agent home (`<home>/agents.db`) holds every agent's state; rows are keyed by agent.
 */
import Database from 'better-sqlite3';
import { assertSchemaKnown, migrate } from './migrations.js';

/** The better-sqlite3 handle type, re-exported so stores do not import the driver themselves. */
export type Db = Database.Database;

/**
 * SQLite's page cache per connection, in KiB: SQLite's own default (2 MiB). better-sqlite3 builds
 * SQLite with 16 MiB, which the daemon fills as its database grows (~13 KiB a dormant agent, of
 * outbox and snapshot rows): with 3,000 agents that was 16 MiB of the daemon's RSS, more than its
 * V8 heap grew. The file's pages stay in the OS page cache, so a miss here is a read, not disk I/O.
 */
export const PAGE_CACHE_KIB = 2000;

/** Options for `openDatabase`. */
export interface OpenDatabaseOptions {
  /** Open read-only (no migrations). Default false. */
  readonly?: boolean;
}

/**
 * Opens (creating if needed) the database at `file` (or `:memory:`), applies pending migrations
 * and returns the handle. WAL lets the daemon write while the CLI reads.
 */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Db {
  const db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  try {
    configure(db, file, options);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

function configure(db: Db, file: string, options: OpenDatabaseOptions): void {
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = ${-PAGE_CACHE_KIB}`);
  if (!options.readonly) {
    if (file !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, `sqlite:${file}`);
  } else assertSchemaKnown(db, `sqlite:${file}`);
}
