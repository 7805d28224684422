/**
 * The lease manager's logic on a manual clock, against the real lease store on a real SQLite file:
 * fair shares, expiry and takeover with epochs, a frozen daemon waking up, graceful stop and handover,
 * capacities, shard pins, and agents nobody claims.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeaseManager, type LeaseCallbacks } from '../../src/cluster/lease-manager.js';
import type { Lease, LeaseStore } from '../../src/storage/lease-types.js';
import { openStorage } from '../../src/storage/open.js';
import type { AgentStorage } from '../../src/storage/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { dropTestDatabases, freshDatabase } from '../helpers/postgres.js';

const LEASE = 1000;

interface Daemon {
  m: LeaseManager;
  log: { gained: number[]; lost: number[]; releasing: number[] };
}

let store: LeaseStore;
let clock: ManualClock;
let engine: 'sqlite' | 'postgres';
const opened: AgentStorage[] = [];
const dirs: string[] = [];

/** A new database on the engine under test with `agents` dormant agents; `store` is its lease store. */
async function seed(agents: number): Promise<void> {
  let url: string;
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'lease-test-'));
    dirs.push(dir);
    url = `sqlite:${join(dir, 'agents.db')}`;
  } else url = await freshDatabase('lease');
  const storage = await openStorage(url);
  opened.push(storage);
  for (let i = 0; i < agents; i++) await storage.agents.create({ name: `a${i}`, behavior: 'echo', pubkey: (n) => n.toString(16).padStart(64, '0'), state: 'dormant', now: clock.now() });
  store = storage.leases;
}

function daemon(id: string, options: { capacity?: number; shard?: { index: number; of: number } } = {}): Daemon {
  const log = { gained: [] as number[], lost: [] as number[], releasing: [] as number[] };
  const callbacks: LeaseCallbacks = {
    gained: async (leases: Lease[]) => void log.gained.push(...leases.map((l) => l.agentIndex)),
    lost: async (indexes) => void log.lost.push(...indexes),
    releasing: async (indexes) => void log.releasing.push(...indexes),
    cursorOf: () => 1_700_000_000,
  };
  return { m: new LeaseManager({ store, callbacks, daemonId: id, leaseMs: LEASE, clock, loop: false, ...options }), log };
}

/** Who holds what, from the store (expired leases count as nobody's). */
async function holders(): Promise<Map<number, string | undefined>> {
  const now = clock.now();
  return new Map((await store.list()).map((r) => [r.agentIndex, r.daemonId && r.expiresAt > now ? r.daemonId : undefined]));
}

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const id of (await holders()).values()) out[id ?? 'nobody'] = (out[id ?? 'nobody'] ?? 0) + 1;
  return out;
}

/** Every daemon's view agrees with the store, and no agent is held by two. */
async function consistent(ds: Daemon[]): Promise<void> {
  const h = await holders();
  const seen = new Set<number>();
  for (const d of ds) {
    for (const i of d.m.held()) {
      expect(seen.has(i), `agent ${i} held twice`).toBe(false);
      seen.add(i);
      expect(h.get(i)).toBe(d.m.id);
    }
  }
}

/** Starts daemons as if together: all registered before the first claim (what start's settle pause is for). */
async function startAll(ds: Daemon[]): Promise<void> {
  for (const d of ds) await store.heartbeat({ id: d.m.id, host: 'h', pid: 1, startedAt: clock.now(), leaseMs: LEASE }, clock.now());
  for (const d of ds) await d.m.start({ settleMs: 0 });
  await clock.advance(LEASE / 4);
}

async function pass(ds: Daemon[], advance = LEASE / 4): Promise<void> {
  for (const d of ds) await d.m.cycle();
  await clock.advance(advance);
}

beforeEach(() => {
  clock = new ManualClock();
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
afterAll(dropTestDatabases);

describe.each(['sqlite', 'postgres'] as const)('LeaseManager on %s', (name) => {
  beforeEach(() => {
    engine = name;
  });

  it('three daemons started together take ten agents each, epoch 1', async () => {
    await seed(30);
    const ds = [daemon('a'), daemon('b'), daemon('c')];
    await startAll(ds);
    expect(await counts()).toEqual({ a: 10, b: 10, c: 10 });
    await consistent(ds);
    expect((await store.list()).every((r) => r.epoch === 1)).toBe(true);
    for (const d of ds) expect(d.log.gained).toHaveLength(10);
  });

  it('takes over a silent daemon after the lease, fences it, and gives it a share again once it is back', async () => {
    await seed(30);
    const [a, b, c] = [daemon('a'), daemon('b'), daemon('c')];
    await startAll([a, b, c]);
    expect(await counts()).toMatchObject({ a: 10, b: 10, c: 10 });
    const cHeld = c.m.held();
    const cFence = c.m.fence(cHeld[0]!)!;
    expect(await store.holds(cFence)).toBe(true);

    // c is frozen: a and b keep renewing; nothing moves before c's lease runs out.
    await pass([a, b]);
    await pass([a, b]);
    expect((await counts()).c).toBe(10);
    let passes = 0;
    while ((await counts()).c !== undefined || (await counts()).nobody !== undefined) {
      await pass([a, b]);
      if (++passes > 10) throw new Error(`no takeover after ${passes} passes: ${JSON.stringify(await counts())}`);
    }
    expect(await counts()).toEqual({ a: 15, b: 15 });
    // Every agent c held was claimed again: epoch 2, and c's fence no longer holds.
    const rows = new Map((await store.list()).map((r) => [r.agentIndex, r]));
    for (const i of cHeld) expect(rows.get(i)!.epoch).toBe(2);
    expect(await store.holds(cFence)).toBe(false);

    // c wakes: its renewal answers with nothing, so it drops all ten; then it is under its share
    // and the busiest hands agents over one per pass until the split is even again.
    await c.m.cycle();
    expect(c.log.lost.sort((x, y) => x - y)).toEqual(cHeld);
    await consistent([a, b, c]);
    for (let i = 0; i < 30 && JSON.stringify(await counts()) !== JSON.stringify({ a: 10, b: 10, c: 10 }); i++) {
      const before = await counts();
      await pass([a, b, c]);
      const after = await counts();
      // One graceful handover at a time: at most one agent leaves a and b together per pass.
      expect((before.a ?? 0) + (before.b ?? 0) - ((after.a ?? 0) + (after.b ?? 0))).toBeLessThanOrEqual(1);
      await consistent([a, b, c]);
    }
    expect(await counts()).toEqual({ a: 10, b: 10, c: 10 });
    expect(a.log.releasing.length + b.log.releasing.length).toBe(10);
  });

  it('stop releases everything at once: the others claim on their next pass, without waiting for the lease', async () => {
    await seed(12);
    const [a, b] = [daemon('a'), daemon('b')];
    await startAll([a, b]);
    expect(await counts()).toEqual({ a: 6, b: 6 });
    const aHeld = a.m.held();
    await a.m.stop();
    expect(a.log.releasing.sort((x, y) => x - y)).toEqual(aHeld);
    expect((await store.census(clock.now())).daemons.map((d) => d.id)).toEqual(['b']);
    expect((await store.list()).filter((r) => aHeld.includes(r.agentIndex)).every((r) => r.cursor === 1_700_000_000)).toBe(true);
    await b.m.cycle();
    expect(await counts()).toEqual({ b: 12 });
  });

  it('passes on the cursor a lease came with while the inbox has none of its own yet, and its epoch in the fence', async () => {
    await seed(4);
    const a = daemon('a');
    await startAll([a]);
    const aHeld = a.m.held();
    await a.m.stop();
    // b's inbox has not caught up with any agent yet: its renewals and releases carry a's cursors on.
    const log = { gained: [] as number[] };
    const b = new LeaseManager({ store, daemonId: 'b', leaseMs: LEASE, clock, loop: false, callbacks: { gained: async (leases) => void log.gained.push(...leases.map((l) => l.agentIndex)), lost: async () => {}, releasing: async () => {}, cursorOf: () => undefined } });
    await b.start();
    expect(b.held()).toEqual(aHeld);
    const epochs = new Map((await store.list()).map((r) => [r.agentIndex, r.epoch]));
    expect(aHeld.map((i) => b.fence(i)?.epoch)).toEqual(aHeld.map((i) => epochs.get(i)));
    await clock.advance(LEASE / 2);
    await b.cycle();
    await b.stop();
    expect((await store.list()).every((r) => r.cursor === 1_700_000_000)).toBe(true);
    expect(b.fence(aHeld[0]!)).toBeUndefined();
  });

  it('keeps capacities, shard pins, and leaves no agent without a holder while someone has room', async () => {
    await seed(30);
    const small = daemon('small', { capacity: 4 });
    const [x, y] = [daemon('x'), daemon('y')];
    await startAll([small, x, y]);
    expect(await counts()).toEqual({ small: 4, x: 13, y: 13 });

    // A pinned daemon takes only its shard; the others take the rest, and nobody is left without a holder.
    await seed(10);
    const evens = daemon('evens', { shard: { index: 0, of: 2 } });
    const [p, q] = [daemon('p'), daemon('q')];
    await startAll([evens, p, q]);
    for (let i = 0; i < 6; i++) await pass([evens, p, q]);
    expect((await counts()).nobody).toBeUndefined();
    expect(evens.m.held().length).toBeGreaterThan(0);
    expect(evens.m.held().every((i) => i % 2 === 0)).toBe(true);
    await consistent([evens, p, q]);
  });
});
