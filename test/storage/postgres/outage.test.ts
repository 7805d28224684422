import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../../src/storage/open.js';
import type { AgentStorage } from '../../../src/storage/types.js';
import type { LogRecord } from '../../../src/util/logger.js';
import { createTestDatabase, startPostgres, type TestPostgres } from '../../helpers/postgres.js';

const pk = (n: number): string => n.toString(16).padStart(64, '0');

/** Resolves once `check` is true (polled), or fails after `ms`. */
async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a PostgreSQL server that goes away and comes back', () => {
  let server: TestPostgres;
  let storage: AgentStorage;
  const logs: LogRecord[] = [];
  beforeAll(async () => {
    // A private server: this test kills it.
    server = await startPostgres();
    const db = await createTestDatabase(server.url);
    storage = await openStorage(db.url, { logger: { log: (r) => logs.push(r) } });
    await storage.agents.create({ name: 'a', behavior: 'echo', pubkey: pk(1), state: 'active', now: 1 });
  });
  afterAll(async () => {
    await storage?.close();
    await server?.destroy();
  });

  it('waits with backoff, says so once, and finishes the work exactly once when it is back', async () => {
    const { id } = await storage.inbox.insert({ agentIndex: 0, trigger: 'manual', now: 1 });
    await server.kill();
    // Work started while the server is down: a read, a plain write and a whole tick commit.
    const read = storage.agents.get(0);
    const write = storage.kv(0).set('during', 'outage');
    const commit = storage.commitTick({ agentIndex: 0, now: 2, facts: [{ op: 'add', text: 'remembered across the outage' }], result: { ok: true }, inbox: { id, status: 'done' } });
    await until(() => logs.some((r) => r.msg === 'database unavailable, retrying'));
    expect(logs.filter((r) => r.msg === 'database unavailable, retrying')).toHaveLength(1);
    const warning = logs.find((r) => r.msg === 'database unavailable, retrying')!;
    expect(warning).toMatchObject({ level: 'warn', ns: 'storage' });
    expect(JSON.stringify(warning)).not.toContain('test-password');
    let settled = false;
    void Promise.allSettled([read, write, commit]).then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);

    await server.start();
    expect((await read)?.name).toBe('a');
    await write;
    const result = await commit;
    expect(result.factIds).toHaveLength(1);
    expect(logs.some((r) => r.msg === 'database available again')).toBe(true);
    expect(await storage.kv(0).get('during')).toBe('outage');
    expect(await storage.facts(0).list()).toHaveLength(1);
    expect((await storage.inbox.get(id))?.status).toBe('done');
    expect((await storage.agents.get(0))?.ticks).toBe(1);
  });
});
