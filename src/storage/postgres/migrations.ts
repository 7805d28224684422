/**
 * Postgres migrations: numbered, applied in order on open, each in its own transaction, under an
 * advisory lock so two processes starting together do not both apply one. `schema_version` holds
 * one row per applied migration. A migration is never edited once released: add the next number.
 */
import type pg from 'pg';
import { DatabaseOpenError } from '../errors.js';
import { maskDatabaseUrl } from '../open.js';
import { pgMigration001 } from './schema/001-runtime.js';
import { pgMigration002 } from './schema/002-messaging.js';
import { pgMigration003 } from './schema/003-leases.js';
import { pgMigration004 } from './schema/004-outbox-lanes.js';

/** One schema step. */
export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration, in order. */
export const PG_MIGRATIONS: readonly PgMigration[] = [pgMigration001, pgMigration002, pgMigration003, pgMigration004];

/** The newest schema version this code knows. */
export const PG_SCHEMA_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version;

/** An arbitrary constant naming this runtime's migration lock. */
const MIGRATION_LOCK = 7_343_001;

/** The database's schema version (0 for an empty database). */
export async function schemaVersion(client: pg.ClientBase): Promise<number> {
  const exists = await client.query<{ t: string | null }>(`SELECT to_regclass('schema_version')::text AS t`);
  if (!exists.rows[0]?.t) return 0;
  const row = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM schema_version`);
  return row.rows[0]?.v ?? 0;
}

/** Applies every pending migration; DATABASE_SCHEMA_NEWER (nothing changed) if the database is ahead of the code. */
export async function migrate(client: pg.ClientBase, url: string): Promise<number> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
    const current = await schemaVersion(client);
    if (current > PG_SCHEMA_VERSION) throw schemaNewer(url, current);
    for (const m of PG_MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
    return PG_SCHEMA_VERSION;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
  }
}

/** The error for a database migrated by newer code. */
export function schemaNewer(url: string, version: number): DatabaseOpenError {
  return new DatabaseOpenError(
    'DATABASE_SCHEMA_NEWER',
    `database ${maskDatabaseUrl(url)}: schema version ${version} is newer than this code knows (${PG_SCHEMA_VERSION}); upgrade the runtime`,
  );
}
