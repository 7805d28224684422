import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyDatabase, databaseStatus } from '../../src/storage/copy.js';
import { StorageConflictError } from '../../src/storage/errors.js';
import { openStorage } from '../../src/storage/open.js';
import type { AgentStorage } from '../../src/storage/types.js';
import { dropTestDatabases, freshDatabase } from '../helpers/postgres.js';
import { signedNote } from './helpers.js';

const T0 = Date.parse('2024-03-10T10:00:00Z');
const pk = (n: number): string => n.toString(16).padStart(64, '0');
const dirs: string[] = [];

afterEach(async () => {
  await dropTestDatabases();
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

async function url(engine: 'sqlite' | 'postgres'): Promise<string> {
  if (engine === 'postgres') return freshDatabase('copy');
  const dir = mkdtempSync(join(tmpdir(), 'db-copy-'));
  dirs.push(dir);
  return `sqlite:${join(dir, 'agents.db')}`;
}

/** Two agents with something in every table. */
async function populate(s: AgentStorage): Promise<void> {
  await s.agents.create({ name: 'alice', behavior: 'assistant', pubkey: pk(1), state: 'active', config: { dmPolicy: 'open' }, now: T0 });
  await s.agents.create({ name: 'bob', behavior: 'echo', pubkey: pk(2), state: 'paused', now: T0 });
  await s.kv(0).set('prefs', { tea: 'green' });
  await s.facts(0).add('Alice likes green tea', { tags: ['drinks'] });
  await s.goals(1).add('say hello', { dueAt: T0 + 5 });
  await s.schedules.create({ agentIndex: 0, spec: { type: 'interval', everyMs: 60_000 }, payload: { ping: 1 }, key: 'ping', now: T0 });
  await s.schedules.fireDue(T0 + 60_000);
  const { id } = await s.inbox.insert({ agentIndex: 1, trigger: 'dm', eventId: 'e'.repeat(64), sender: pk(9), payload: { text: 'hi' }, now: T0 });
  const reply = signedNote('hello back');
  await s.commitTick({
    agentIndex: 1,
    now: T0 + 10,
    messages: [{ peer: pk(9), direction: 'in', text: 'hi', at: T0 }, { peer: pk(9), direction: 'out', text: 'hello back', eventId: reply.id, at: T0 + 9 }],
    peers: [{ pubkey: pk(9), at: T0, trust: 'trusted' }],
    outbox: [{ event: reply, target: { type: 'dm', recipient: pk(9) }, deadlineAt: T0 + 86_400_000 }],
    tick: { agentPubkey: pk(2), seq: 1, startedAt: T0, endedAt: T0 + 10, trigger: { type: 'dm', eventId: 'e'.repeat(64), from: pk(9), text: 'hi', at: T0 }, steps: [], tokens: { input: 0, output: 0 }, budget: { computeMs: 10, llmCalls: 0, tokens: 0 }, outcome: 'ok', sentEventIds: [reply.id] },
    usage: { computeMs: 10 },
    result: { ok: false, error: 'a hiccup' },
    inbox: { id, status: 'done' },
  });
  await s.budget.markNotified(1, '2024-03-10', 'computeMs', 80);
  await s.inbox.insert({ agentIndex: 0, trigger: 'manual', payload: 'pending one', now: T0 + 20 });
  await s.processed.markProcessed('f'.repeat(64), 'inbox', T0);
  await s.cursors.set('ws://127.0.0.1:7777', 1_700_000_000);
  await s.chainHeads.set(1, { seq: 1, lastId: 'a'.repeat(64) });
}

/** Everything observable through the seam, for equality after a copy. */
async function view(s: AgentStorage): Promise<unknown> {
  const agents = await s.agents.list();
  const out: Record<string, unknown> = { agents, outbox: await s.outbox.list(), cursors: await s.cursors.list(), processed: await s.processed.isProcessed('f'.repeat(64)) };
  for (const a of agents) {
    out[`memory:${a.index}`] = await s.exportMemory(a.index);
    out[`schedules:${a.index}`] = await s.schedules.list(a.index);
    out[`pending:${a.index}`] = await s.inbox.pending(a.index);
    out[`ticks:${a.index}`] = await s.ticks.list(a.index);
    out[`usage:${a.index}`] = await s.budget.get(a.index, '2024-03-10');
    out[`head:${a.index}`] = await s.chainHeads.get(a.index);
    out[`recall:${a.index}`] = (await s.facts(a.index).search('tea')).map((f) => f.text);
  }
  return out;
}

for (const [fromEngine, toEngine] of [['sqlite', 'postgres'], ['postgres', 'sqlite']] as const) {
  describe(`agent db copy ${fromEngine} → ${toEngine}`, () => {
    it('moves every agent with its memory, queues, ledgers and chain head, ids and counters intact', async () => {
      const fromUrl = await url(fromEngine);
      const toUrl = await url(toEngine);
      const source = await openStorage(fromUrl);
      await populate(source);
      const before = await view(source);
      await source.close();

      const report = await copyDatabase(fromUrl, toUrl);
      expect(report.rows).toMatchObject({ agents: 2, facts: 1, messages: 2, inbox: 3, ticks: 1, outbox: 1, schedules: 1 });
      expect(report.chainHeads).toBe(1);

      const target = await openStorage(toUrl);
      try {
        expect(await view(target)).toEqual(before);
        // New rows continue after the copied ids.
        const fact = await target.facts(0).add('a new fact');
        expect(fact.id).toBeGreaterThan(1);
        const { id } = await target.inbox.insert({ agentIndex: 0, trigger: 'manual', now: T0 + 99 });
        expect(id).toBe(4);
      } finally {
        await target.close();
      }
      const status = await databaseStatus(toUrl);
      expect(status).toMatchObject({ engine: toEngine, schemaVersion: expect.any(Number), rows: { agents: 2, inbox: 4 } });
      expect(status.sizeBytes).toBeGreaterThan(0);
    });

    it('refuses a target that holds anything unless forced, then replaces it', async () => {
      const fromUrl = await url(fromEngine);
      const toUrl = await url(toEngine);
      const source = await openStorage(fromUrl);
      await populate(source);
      await source.close();
      const target = await openStorage(toUrl);
      await target.agents.create({ name: 'squatter', behavior: 'echo', pubkey: pk(7), now: T0 });
      await target.close();
      const refused = await copyDatabase(fromUrl, toUrl).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(StorageConflictError);
      expect((refused as Error).message).toMatch(/is not empty \(agents: 1\); use --force/);
      await copyDatabase(fromUrl, toUrl, { force: true });
      const after = await openStorage(toUrl);
      try {
        expect((await after.agents.list()).map((a) => a.name)).toEqual(['alice', 'bob']);
      } finally {
        await after.close();
      }
    });
  });
}
