/**
 * Databases for tests on the run's PostgreSQL server (started once by the globalSetup, or the one
 * `AGENT_TEST_DATABASE_URL` names): each test file takes fresh, empty databases of its own and drops
 * them in afterAll, so files running in parallel never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

export { startPostgres, freePort, type TestPostgres } from './postgres-server.js';
export { adminQuery, withDatabase } from './postgres-admin.js';
import { adminQuery, withDatabase } from './postgres-admin.js';

/**
 * The URL of the run's shared server: `AGENT_TEST_DATABASE_URL` when given, else the one the
 * globalSetup started (provided as `pgUrl`).
 */
export function testServerUrl(): string {
  const given = process.env.AGENT_TEST_DATABASE_URL;
  if (given) return given;
  const url = inject('pgUrl');
  if (!url) throw new Error('no test PostgreSQL: the globalSetup did not provide pgUrl');
  return url;
}

/** Creates an empty database with a unique name on `serverUrl` and returns its URL and a dropper. */
export async function createTestDatabase(serverUrl: string, prefix = 't'): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE "${name}"`);
  return {
    url: withDatabase(serverUrl, name),
    name,
    drop: () => adminQuery(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

const created: Array<() => Promise<void>> = [];

/** A fresh empty database on the run's server; `dropTestDatabases()` (afterAll) drops every one. */
export async function freshDatabase(prefix = 't'): Promise<string> {
  const db = await createTestDatabase(testServerUrl(), prefix);
  created.push(db.drop);
  return db.url;
}

/** A fresh database cloned from the run's migrated template (no migration cost); dropped by `dropTestDatabases()`. */
export async function migratedDatabase(prefix = 'm'): Promise<string> {
  const server = testServerUrl();
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await adminQuery(server, `CREATE DATABASE "${name}" TEMPLATE "${inject('pgTemplate')}"`);
  created.push(() => adminQuery(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  return withDatabase(server, name);
}

/** Drops every database `freshDatabase` made in this file. */
export async function dropTestDatabases(): Promise<void> {
  while (created.length) await created.pop()!().catch(() => undefined);
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    /** A database migrated to the current schema, to clone with CREATE DATABASE … TEMPLATE. */
    pgTemplate: string;
  }
}

/**
 * The environment that points a CLI child process at an engine: nothing for SQLite (the home's
 * file), AGENT_DATABASE_URL of a fresh database for Postgres (dropped by `dropTestDatabases()`).
 */
export async function engineEnv(engine: 'sqlite' | 'postgres'): Promise<Record<string, string>> {
  return engine === 'postgres' ? { AGENT_DATABASE_URL: await freshDatabase('e2e') } : {};
}
