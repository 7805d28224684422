/**
 * Databases for tests on the run's PostgreSQL server (started once by the globalSetup, or the one
 * `AGENT_TEST_DATABASE_URL` names): each test file takes fresh, empty databases of its own and drops
 * them in afterAll, so files running in parallel never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export { startPostgres, freePort, type TestPostgres } from './postgres-server.js';

/** Replaces the database of a postgres:// URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

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
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(serverUrl, name),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

const created: Array<() => Promise<void>> = [];

/** A fresh empty database on the run's server; `dropTestDatabases()` (afterAll) drops every one. */
export async function freshDatabase(prefix = 't'): Promise<string> {
  const db = await createTestDatabase(testServerUrl(), prefix);
  created.push(db.drop);
  return db.url;
}

/** Drops every database `freshDatabase` made in this file. */
export async function dropTestDatabases(): Promise<void> {
  while (created.length) await created.pop()!().catch(() => undefined);
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}
