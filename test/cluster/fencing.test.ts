/**
 * Fencing in storage, on both engines: a commit or an outbox/alarm pick-up by a daemon whose lease
 * moved on is refused in the same transaction; two daemons claiming at the same instant on
 * PostgreSQL get disjoint agents (FOR UPDATE SKIP LOCKED).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/storage/open.js';
import type { AgentStorage } from '../../src/storage/types.js';
import { errorCode } from '../../src/util/errors.js';
import { dropTestDatabases, freshDatabase } from '../helpers/postgres.js';
import { signedNote } from '../storage/helpers.js';

const opened: AgentStorage[] = [];
const dirs: string[] = [];
const NOW = 1_700_000_000_000;
const LEASE = 1000;

async function freshUrl(engine: 'sqlite' | 'postgres'): Promise<string> {
  if (engine === 'postgres') return freshDatabase('fence');
  const dir = mkdtempSync(join(tmpdir(), 'fence-test-'));
  dirs.push(dir);
  return `sqlite:${join(dir, 'agents.db')}`;
}

async function open(url: string): Promise<AgentStorage> {
  const s = await openStorage(url);
  opened.push(s);
  return s;
}

async function seed(storage: AgentStorage, agents: number): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < agents; i++) keys.push((await storage.agents.create({ name: `a${i}`, behavior: 'echo', pubkey: (n) => (n + 1).toString(16).padStart(64, '0'), state: 'dormant', now: NOW })).pubkey);
  return keys;
}

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
afterAll(dropTestDatabases);

describe.each(['sqlite', 'postgres'] as const)('fencing on %s', (engine) => {
  // SQLite claims and renews many leases in one statement each: the same answers as one row at a time.
  it('claims free agents in index order and renews only the fences that hold, keeping the highest cursor', async () => {
    const storage = await open(await freshUrl(engine));
    await seed(storage, 5);
    const taken = await storage.leases.claim('A', { limit: 3, now: NOW, leaseMs: LEASE });
    expect(taken.map((l) => [l.agentIndex, l.daemonId, l.epoch])).toEqual([[0, 'A', 1], [1, 'A', 1], [2, 'A', 1]]);
    const first = await storage.leases.renew('A', [{ agentIndex: 2, daemonId: 'A', epoch: 1, cursor: 50 }, { agentIndex: 0, daemonId: 'A', epoch: 1, cursor: 40 }, { agentIndex: 1, daemonId: 'A', epoch: 7 }], { now: NOW + 10, leaseMs: LEASE });
    const byIndex = <T extends { agentIndex: number }>(leases: T[]): T[] => [...leases].sort((x, y) => x.agentIndex - y.agentIndex);
    expect(byIndex(first).map((l) => [l.agentIndex, l.expiresAt, l.cursor])).toEqual([[0, NOW + 10 + LEASE, 40], [2, NOW + 10 + LEASE, 50]]);
    const again = await storage.leases.renew('A', [{ agentIndex: 0, daemonId: 'A', epoch: 1, cursor: 30 }, { agentIndex: 2, daemonId: 'A', epoch: 1 }], { now: NOW + 20, leaseMs: LEASE });
    expect(byIndex(again).map((l) => [l.agentIndex, l.cursor])).toEqual([[0, 40], [2, 50]]);
    expect(await storage.leases.renew('B', [{ agentIndex: 0, daemonId: 'B', epoch: 1 }], { now: NOW + 30, leaseMs: LEASE })).toEqual([]);
    expect(await storage.leases.renew('A', [], { now: NOW + 30, leaseMs: LEASE })).toEqual([]);
    const rest = await storage.leases.claim('B', { limit: 10, now: NOW + 30, leaseMs: LEASE });
    expect(rest.map((l) => l.agentIndex)).toEqual([3, 4]);
  });

  it('refuses the commit of a daemon whose lease was taken over, and only the holder picks its outbox rows and alarms', async () => {
    const storage = await open(await freshUrl(engine));
    await seed(storage, 1);
    const [a] = await storage.leases.claim('A', { limit: 1, now: NOW, leaseMs: LEASE });
    expect(a).toMatchObject({ agentIndex: 0, daemonId: 'A', epoch: 1 });
    const { id: inboxId } = await storage.inbox.insert({ agentIndex: 0, trigger: 'dm', eventId: 'e'.repeat(64), sender: 'f'.repeat(64), payload: { text: 'hi' }, now: NOW });
    await storage.schedules.create({ agentIndex: 0, spec: { type: 'at', at: NOW + 10 }, now: NOW });

    // A is frozen past its lease; B claims the agent (epoch 2).
    const later = NOW + LEASE + 1;
    const [b] = await storage.leases.claim('B', { limit: 1, now: later, leaseMs: LEASE });
    expect(b).toMatchObject({ agentIndex: 0, daemonId: 'B', epoch: 2 });
    const reply = signedNote('echo: hi', 1_700_000_001);
    const commit = { agentIndex: 0, now: later, inbox: { id: inboxId, status: 'done' as const }, outbox: [{ event: reply, target: { type: 'own' as const }, deadlineAt: later + 60_000 }], result: { ok: true } };

    // A wakes up and commits its tick: refused, nothing written.
    const refused = await storage.commitTick({ ...commit, fence: { agentIndex: 0, daemonId: 'A', epoch: 1 } }).catch((e: unknown) => e);
    expect(errorCode(refused)).toBe('LEASE_LOST');
    expect((await storage.inbox.get(inboxId))?.status).toBe('pending');
    expect(await storage.outbox.getByEventId(reply.id)).toBeUndefined();
    expect((await storage.agents.get(0))?.ticks).toBe(0);
    // Its fence for another agent's index does not pass either.
    expect(errorCode(await storage.commitTick({ ...commit, fence: { agentIndex: 1, daemonId: 'B', epoch: 2 } }).catch((e: unknown) => e))).toBe('LEASE_LOST');

    // B's commit goes through; its reply is B's to deliver, not A's.
    await storage.commitTick({ ...commit, fence: { agentIndex: 0, daemonId: 'B', epoch: 2 } });
    expect((await storage.inbox.get(inboxId))?.status).toBe('done');
    const owners = signedNote('owner profile', 1_700_000_002);
    await storage.outbox.enqueue({ agentPubkey: 'c'.repeat(64), event: owners, target: { type: 'own' }, now: later, deadlineAt: later + 60_000 });
    const ids = async (holder: string): Promise<string[]> => (await storage.outbox.due(later + 1, 10, { holder })).map((r) => r.eventId).sort();
    expect(await ids('A')).toEqual([owners.id]);
    expect(await ids('B')).toEqual([owners.id, reply.id].sort());
    expect(await storage.outbox.nextDue({ holder: 'A' })).toBe(later);
    expect((await storage.outbox.due(later + 1, 10)).length).toBe(2);

    // The alarm fires only for the holder.
    expect(await storage.schedules.nextDue({ holder: 'A' })).toBeUndefined();
    expect(await storage.schedules.fireDue(later + 20, 10, { holder: 'A' })).toEqual([]);
    const fired = await storage.schedules.fireDue(later + 20, 10, { holder: 'B' });
    expect(fired.map((f) => f.schedule.agentIndex)).toEqual([0]);
  });
});

describe('claims on postgres', () => {
  it('daemons claiming at the same instant get disjoint agents', async () => {
    const url = await freshUrl('postgres');
    const first = await open(url);
    await seed(first, 30);
    const daemons = await Promise.all(['A', 'B', 'C', 'D'].map(async (id) => ({ id, storage: await open(url) })));
    const claims = await Promise.all(daemons.map((d) => d.storage.leases.claim(d.id, { limit: 10, now: NOW, leaseMs: LEASE })));
    const all = claims.flat().map((l) => l.agentIndex);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(30);
    for (const c of claims) expect(c.length).toBeLessThanOrEqual(10);
    const rows = await first.leases.list();
    for (const [i, c] of claims.entries()) for (const l of c) expect(rows[l.agentIndex]).toMatchObject({ daemonId: daemons[i]!.id, epoch: 1 });
  });
});
