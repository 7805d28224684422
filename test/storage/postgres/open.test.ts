import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { DatabaseOpenError } from '../../../src/storage/errors.js';
import { openStorage } from '../../../src/storage/open.js';
import { dropTestDatabases, freePort, freshDatabase, migratedDatabase, testServerUrl, withDatabase } from '../../helpers/postgres.js';

afterAll(dropTestDatabases);

async function openError(url: string): Promise<DatabaseOpenError> {
  const error = await openStorage(url).then(
    async (s) => {
      await s.close();
      throw new Error('opened');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DatabaseOpenError);
  return error as DatabaseOpenError;
}

async function query<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

describe('opening a PostgreSQL database', () => {
  it('migrates an empty database once, recording each step in schema_version', async () => {
    const url = await freshDatabase();
    for (let i = 0; i < 2; i++) await (await openStorage(url)).close();
    const rows = await query<{ version: number; name: string }>(url, 'SELECT version, name FROM schema_version ORDER BY version');
    expect(rows).toEqual([
      { version: 1, name: 'runtime' },
      { version: 2, name: 'messaging' },
      { version: 3, name: 'leases' },
      { version: 4, name: 'outbox-lanes' },
    ]);
    const storage = await openStorage(url);
    expect(storage.engine).toBe('postgres');
    await storage.close();
  });

  it('names the database with the password masked when the server is unreachable, refuses the login or lacks the database', async () => {
    const server = new URL(testServerUrl());
    const unreachable = await openError(`postgres://agent:hunter2@127.0.0.1:${await freePort()}/agents`);
    expect(unreachable.code).toBe('DATABASE_UNAVAILABLE');
    expect(unreachable.message).toMatch(/^database postgres:\/\/agent:\*\*\*@127\.0\.0\.1:\d+\/agents: server unreachable/);
    expect(unreachable.message).not.toContain('hunter2');
    expect(unreachable.message).not.toContain('\n');

    const badPassword = new URL(server);
    badPassword.password = 'not-the-password';
    const refused = await openError(badPassword.toString());
    expect(refused.code).toBe('DATABASE_UNAVAILABLE');
    expect(refused.message).toContain('authentication failed');
    expect(refused.message).not.toContain('not-the-password');

    const missing = await openError(withDatabase(server.toString(), 'no_such_database_here'));
    expect(missing.message).toMatch(/no_such_database_here: no such database$/);
    expect(missing.message).not.toContain(server.password);

    const bad = await openError('postgres://[::1');
    expect(bad.code).toBe('DATABASE_URL_INVALID');
  });

  it('refuses a schema newer than the code and changes nothing', async () => {
    const url = await migratedDatabase();
    await query(url, `INSERT INTO schema_version (version, name, applied_at) VALUES (99, 'from-the-future', 0)`);
    const error = await openError(url);
    expect(error.code).toBe('DATABASE_SCHEMA_NEWER');
    expect(error.message).toMatch(/schema version 99 is newer than this code knows \(4\)/);
    expect((await query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM schema_version'))[0]?.n).toBe(5);
    const readonly = await openStorage(url, { readonly: true }).catch((e: unknown) => e);
    expect(readonly).toMatchObject({ code: 'DATABASE_SCHEMA_NEWER' });
  });
});
