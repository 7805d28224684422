/**
 * The asynchronous seam on SQLite: an awaited transaction holds the one connection, so nothing
 * else interleaves with it, a rejected one leaves nothing, and misuse is refused with a code. Plus
 * opening by URL: the schema version table, and a database newer than the code refused untouched.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { maskDatabaseUrl, openStorage, parseDatabaseUrl } from '../../src/storage/open.js';
import { LATEST_SCHEMA_VERSION } from '../../src/storage/sqlite/migrations.js';
import type { AgentStorage } from '../../src/storage/types.js';
import { runCli } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';
import { tempDbs } from './helpers.js';

const pk = (n: number): string => n.toString(16).padStart(64, '0');
const T0 = 1_700_000_000_000;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('the async storage seam on SQLite', () => {
  let dbs: ReturnType<typeof tempDbs>;
  let storage: AgentStorage;
  beforeEach(async () => {
    dbs = tempDbs();
    storage = await openStorage(`sqlite:${join(dbs.dir, 'agents.db')}`);
    await storage.agents.create({ name: 'a', behavior: 'echo', pubkey: pk(1), now: T0 });
  });
  afterEach(async () => {
    await storage.close();
    dbs.cleanup();
  });

  it('runs a transaction alone on the connection: outside calls wait, then see only committed rows', async () => {
    let inside = false;
    const order: string[] = [];
    const tx = storage.transaction(async (t) => {
      inside = true;
      await t.kv(0).set('k', 'in-tx');
      await tick(); // the callback yields: other callers get the event loop
      await tick();
      order.push('tx-write-2');
      await t.kv(0).set('k2', 'in-tx');
      inside = false;
      return 'done';
    });
    // Issued while the transaction is open: must neither join it nor read its uncommitted row.
    const read = storage.kv(0).get('k').then((v) => {
      order.push(`read:${String(v)}:${inside ? 'during' : 'after'}`);
      return v;
    });
    const write = storage.kv(0).set('outside', 1).then(() => order.push('outside-write'));
    expect(await tx).toBe('done');
    expect(await read).toBe('in-tx');
    await write;
    expect(order).toEqual(['tx-write-2', 'read:in-tx:after', 'outside-write']);
  });

  it('rolls back everything a rejected transaction wrote, and the storage stays usable', async () => {
    await expect(
      storage.transaction(async (t) => {
        await t.kv(0).set('gone', 1);
        await t.inbox.insert({ agentIndex: 0, trigger: 'manual', payload: {}, now: T0 });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await storage.kv(0).get('gone')).toBeUndefined();
    expect(await storage.inbox.pending(0)).toEqual([]);
    // A storage error inside the callback (a conflict) rolls back too.
    await expect(storage.transaction(async (t) => {
      await t.kv(0).set('also-gone', 1);
      await t.agents.create({ name: 'a', behavior: 'echo', pubkey: pk(2), now: T0 });
    })).rejects.toMatchObject({ code: 'STORAGE_CONFLICT' });
    expect(await storage.kv(0).get('also-gone')).toBeUndefined();
    await storage.kv(0).set('kept', 2);
    expect(await storage.kv(0).get('kept')).toBe(2);
  });

  it('serializes concurrent transactions (no lost update) and keeps commitTick exactly-once inside one', async () => {
    await storage.kv(0).set('n', 0);
    await Promise.all(
      Array.from({ length: 20 }, () =>
        storage.transaction(async (t) => {
          const n = (await t.kv(0).get<number>('n'))!;
          await tick();
          await t.kv(0).set('n', n + 1);
        }),
      ),
    );
    expect(await storage.kv(0).get('n')).toBe(20);
    const row = await storage.inbox.insert({ agentIndex: 0, trigger: 'manual', payload: {}, now: T0 });
    await storage.transaction(async (t) => {
      await t.commitTick({ agentIndex: 0, now: T0, kv: [{ op: 'set', key: 'once', value: 1 }], inbox: { id: row.id, status: 'done' } });
    });
    await expect(storage.commitTick({ agentIndex: 0, now: T0, kv: [{ op: 'set', key: 'twice', value: 1 }], inbox: { id: row.id, status: 'done' } })).rejects.toMatchObject({ code: 'STORAGE_CONFLICT' });
    expect(await storage.kv(0).get('twice')).toBeUndefined();
  });

  it('refuses misuse with STORAGE_MISUSE instead of deadlocking: the storage inside its own transaction, a stale handle, nesting, after close', async () => {
    let stale: Parameters<Parameters<AgentStorage['transaction']>[0]>[0] | undefined;
    await expect(
      storage.transaction(async (t) => {
        stale = t;
        await storage.kv(0).get('x');
      }),
    ).rejects.toMatchObject({ code: 'STORAGE_MISUSE' });
    await expect(stale!.kv(0).get('x')).rejects.toMatchObject({ code: 'STORAGE_MISUSE' });
    await expect(storage.transaction(async () => storage.transaction(async () => 1))).rejects.toMatchObject({ code: 'STORAGE_MISUSE' });
    await storage.close();
    await expect(storage.agents.list()).rejects.toMatchObject({ code: 'STORAGE_MISUSE' });
  });
});

describe('opening storage by URL', () => {
  it('parses sqlite: and postgres:// URLs, masks passwords, and names what is wrong', () => {
    expect(parseDatabaseUrl('sqlite:/tmp/a.db')).toEqual({ engine: 'sqlite', file: '/tmp/a.db' });
    expect(parseDatabaseUrl('sqlite:///tmp/a.db')).toEqual({ engine: 'sqlite', file: '/tmp/a.db' });
    expect(parseDatabaseUrl('postgres://u:pw@127.0.0.1:5432/agents')).toEqual({ engine: 'postgres', url: 'postgres://u:pw@127.0.0.1:5432/agents' });
    expect(maskDatabaseUrl('postgres://u:secret@h/db')).toBe('postgres://u:***@h/db');
    expect(() => parseDatabaseUrl('mysql://u:secret@h/db')).toThrow(expect.objectContaining({ code: 'DATABASE_URL_INVALID', message: expect.not.stringContaining('secret') }));
    expect(() => parseDatabaseUrl('sqlite:')).toThrow(expect.objectContaining({ code: 'DATABASE_URL_INVALID' }));
  });

  it('keeps one schema_version row per migration, and refuses a newer schema untouched with exit 2', async () => {
    const dbs = tempDbs();
    try {
      const file = join(dbs.dir, 'agents.db');
      await (await openStorage(`sqlite:${file}`)).close();
      const raw = new Database(file);
      const versions = (raw.prepare('SELECT version FROM schema_version ORDER BY version').all() as Array<{ version: number }>).map((r) => r.version);
      expect(versions).toEqual(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
      raw.prepare("INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'from-the-future', 0)").run(LATEST_SCHEMA_VERSION + 1);
      raw.close();
      await expect(openStorage(`sqlite:${file}`)).rejects.toMatchObject({ code: 'DATABASE_SCHEMA_NEWER', message: expect.stringContaining(`sqlite:${file}`) });
      await expect(openStorage(`sqlite:${file}`, { readonly: true })).rejects.toMatchObject({ code: 'DATABASE_SCHEMA_NEWER' });

      // The CLI: one line naming the database, its code under --json, exit 2.
      const home = tempHome();
      const r = await runCli(['list', '--home', home, '--json'], { env: { AGENT_DATABASE_URL: `sqlite:${file}` } });
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ code: 'DATABASE_SCHEMA_NEWER', error: expect.stringContaining(file) });
      const bad = await runCli(['list', '--home', home], { env: { AGENT_DATABASE_URL: 'mysql://u:hunter2@h/db' } });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^agent: database URL mysql:\/\/u:\*\*\*@h\/db names no supported engine/);
      expect(bad.stderr).not.toContain('hunter2');
    } finally {
      dbs.cleanup();
    }
  });
});
