/**
 * The engine factory: the one place that turns a database URL into an AgentStorage. Every other
 * layer gets an AgentStorage handed in (lint forbids importing storage/sqlite or storage/postgres
 * outside src/storage). Engines load lazily, so a SQLite home never loads a Postgres driver.
 *
 * URLs: `sqlite:PATH` (a file; `sqlite::memory:` for a throwaway database) or `postgres://…` /
 * `postgresql://…`. To add an engine: implement AgentStorage in src/storage/<engine>/, add its
 * scheme to `parseDatabaseUrl` and a loader to ENGINES below, and run the contract tests on it.
 */
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { DatabaseOpenError } from './errors.js';
import type { AgentStorage } from './types.js';

/** A parsed database URL. */
export type DatabaseLocation = { engine: 'sqlite'; file: string } | { engine: 'postgres'; url: string };

/** How to open. */
export interface OpenStorageOptions {
  /** Where default timestamps come from (default: Date.now). */
  clock?: Pick<Clock, 'now'>;
  /** Where an engine that sits across a network reports outages ("database unavailable, retrying"). */
  logger?: Logger;
  /** Read only, no migrations; the database must exist (DATABASE_UNAVAILABLE otherwise). Default false. */
  readonly?: boolean;
  /**
   * The caller is the database's one long-lived writer (the daemon): SQLite checkpoints its WAL on a
   * worker thread, off the caller's event loop (sqlite/checkpointer.ts). A server engine ignores it.
   */
  backgroundCheckpoints?: boolean;
}

/** Opens one engine at a parsed location. */
export type EngineLoader = (location: DatabaseLocation, options: OpenStorageOptions) => Promise<AgentStorage>;

const ENGINES: Record<DatabaseLocation['engine'], EngineLoader> = {
  sqlite: async (location, options) => {
    const { openSqliteStorage } = await import('./sqlite/open-sqlite.js');
    return openSqliteStorage(location.engine === 'sqlite' ? location.file : '', options);
  },
  postgres: async (location, options) => {
    const { openPostgresStorage } = await import('./postgres/open-postgres.js');
    return openPostgresStorage(location.engine === 'postgres' ? location.url : '', options);
  },
};

/** The URL of a SQLite database file. */
export function sqliteUrl(file: string): string {
  return `sqlite:${file}`;
}

/** Parses a database URL; DATABASE_URL_INVALID names what is wrong (password masked). */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (url.startsWith('sqlite:')) {
    let file = url.slice('sqlite:'.length);
    // Accept sqlite:///abs/path and sqlite://rel the way other tools write them.
    if (file.startsWith('//')) file = file.slice(2);
    if (file === '') throw new DatabaseOpenError('DATABASE_URL_INVALID', `database URL "${url}" names no file (use sqlite:PATH)`);
    return { engine: 'sqlite', file };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    try {
      new URL(url);
    } catch (cause) {
      throw new DatabaseOpenError('DATABASE_URL_INVALID', `database URL ${maskDatabaseUrl(url)} is not a valid URL`, { cause });
    }
    return { engine: 'postgres', url };
  }
  throw new DatabaseOpenError('DATABASE_URL_INVALID', `database URL ${maskDatabaseUrl(url)} names no supported engine (use sqlite:PATH or postgres://…)`);
}

/** The URL with any password replaced by `***`, for messages and logs. */
export function maskDatabaseUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*):[^@/]*@/i, '$1:***@');
}

/**
 * Opens (creating and migrating unless read-only) the database at `url`. Rejects with
 * DatabaseOpenError (DATABASE_URL_INVALID / DATABASE_UNAVAILABLE / DATABASE_SCHEMA_NEWER), one line.
 */
export async function openStorage(url: string, options: OpenStorageOptions = {}): Promise<AgentStorage> {
  const location = parseDatabaseUrl(url);
  return ENGINES[location.engine](location, options);
}
