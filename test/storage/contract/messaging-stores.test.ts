import { beforeEach, expect, it } from 'vitest';
import { StorageInputError } from '../../../src/storage/errors.js';
import type { AgentStorage } from '../../../src/storage/types.js';
import { signedNote } from '../helpers.js';
import { describeEngines, type TestDatabase } from './engines.js';

const T0 = 1_700_000_000_000;
const RECIPIENT = 'a'.repeat(64);

describeEngines('outbox store', (fx) => {
  let db: TestDatabase;
  let storage: AgentStorage;
  beforeEach(async () => {
    db = await fx.fresh();
    storage = await db.open();
  });

  it('enqueues idempotently by event id, keeping the event byte-exact', async () => {
    const event = signedNote('hello');
    const id = await storage.outbox.enqueue({ agentPubkey: event.pubkey, event, target: { type: 'dm', recipient: RECIPIENT }, now: T0, deadlineAt: T0 + 60_000 });
    const again = await storage.outbox.enqueue({ agentPubkey: event.pubkey, event, target: { type: 'own' }, now: T0 + 5, deadlineAt: T0 + 1 });
    expect(again).toBe(id);
    const row = await storage.outbox.getByEventId(event.id);
    expect(row).toMatchObject({ id, status: 'pending', attempts: 0, nextAttemptAt: T0, createdAt: T0, deadlineAt: T0 + 60_000, target: { type: 'dm', recipient: RECIPIENT } });
    expect(row?.event).toEqual(event);
    expect((await storage.outbox.list())).toHaveLength(1);
  });

  it('works inside a caller transaction and rolls back with it', async () => {
    const event = signedNote('in a tx');
    await expect(
      storage.transaction(async (tx) => {
        await tx.outbox.enqueue({ agentPubkey: event.pubkey, event, target: { type: 'own' }, now: T0, deadlineAt: T0 + 1000 });
        throw new Error('tick failed');
      }),
    ).rejects.toThrow('tick failed');
    expect(await storage.outbox.getByEventId(event.id)).toBeUndefined();
    await storage.transaction((tx) => tx.outbox.enqueue({ agentPubkey: event.pubkey, event, target: { type: 'own' }, now: T0, deadlineAt: T0 + 1000 }));
    expect((await storage.outbox.getByEventId(event.id))?.status).toBe('pending');
  });

  it('enqueues many at once: ids in input order, each author and lane kept, idempotent, all or none', async () => {
    const [a, b, c] = [signedNote('many a'), signedNote('many b'), signedNote('many c')];
    const owner = 'f'.repeat(64);
    const stored = await storage.outbox.enqueue({ agentPubkey: b.pubkey, event: b, target: { type: 'own' }, now: T0, deadlineAt: T0 + 1000 });
    const ids = await storage.outbox.enqueueMany([
      { agentPubkey: a.pubkey, event: a, target: { type: 'dm', recipient: RECIPIENT }, now: T0 + 1, deadlineAt: T0 + 60_000 },
      // Already queued: its first row's id, unchanged.
      { agentPubkey: owner, event: b, target: { type: 'dm', recipient: RECIPIENT }, now: T0 + 1, deadlineAt: T0 + 1 },
      { agentPubkey: owner, event: c, target: { type: 'own' }, now: T0 + 1, deadlineAt: T0 + 5000, nextAttemptAt: T0 + 50 },
      // Named twice in one call: one row.
      { agentPubkey: a.pubkey, event: a, target: { type: 'own' }, now: T0 + 1, deadlineAt: T0 + 1 },
    ]);
    expect(ids[1]).toBe(stored);
    expect(ids[3]).toBe(ids[0]);
    expect(new Set(ids).size).toBe(3);
    expect(ids[2]).toBeGreaterThan(ids[0]!);
    expect(await storage.outbox.getByEventId(a.id)).toMatchObject({ id: ids[0], agentPubkey: a.pubkey, lane: 'conversation', target: { type: 'dm', recipient: RECIPIENT }, deadlineAt: T0 + 60_000 });
    expect(await storage.outbox.getByEventId(b.id)).toMatchObject({ id: stored, agentPubkey: b.pubkey, lane: 'background', createdAt: T0 });
    expect(await storage.outbox.getByEventId(c.id)).toMatchObject({ id: ids[2], agentPubkey: owner, lane: 'background', nextAttemptAt: T0 + 50 });
    expect((await storage.outbox.getByEventId(c.id))?.event).toEqual(c);
    expect(await storage.outbox.enqueueMany([])).toEqual([]);

    // One bad entry: nothing of the call is queued.
    const d = signedNote('many d');
    await expect(
      storage.outbox.enqueueMany([
        { agentPubkey: d.pubkey, event: d, target: { type: 'own' }, now: T0, deadlineAt: T0 + 1 },
        { agentPubkey: d.pubkey, event: d, target: { type: 'relays', relays: ['http://x'] }, now: T0, deadlineAt: T0 + 1 },
      ]),
    ).rejects.toThrow(StorageInputError);
    expect(await storage.outbox.getByEventId(d.id)).toBeUndefined();
    // Inside a caller transaction it rolls back with it.
    await expect(
      storage.transaction(async (tx) => {
        await tx.outbox.enqueueMany([{ agentPubkey: d.pubkey, event: d, target: { type: 'own' }, now: T0, deadlineAt: T0 + 1 }]);
        throw new Error('tick failed');
      }),
    ).rejects.toThrow('tick failed');
    expect(await storage.outbox.getByEventId(d.id)).toBeUndefined();
    expect(await storage.outbox.list()).toHaveLength(3);
  });

  it('rejects bad targets and ids with a clear error', async () => {
    const event = signedNote('bad');
    const base = { agentPubkey: event.pubkey, event, now: T0, deadlineAt: T0 + 1 };
    await expect(storage.outbox.enqueue({ ...base, target: { type: 'dm', recipient: 'npub1xyz' } })).rejects.toThrow(StorageInputError);
    await expect(storage.outbox.enqueue({ ...base, target: { type: 'relays', relays: ['http://x'] } })).rejects.toThrow(/ws:\/\/ or wss:\/\//);
    await expect(storage.outbox.enqueue({ ...base, event: { ...event, id: 'nope' }, target: { type: 'own' } })).rejects.toThrow(/event id/);
    expect((await storage.outbox.list())).toHaveLength(0);
  });

  it('runs the lifecycle: due → attempt (backoff, clamped to deadline) → delivered / failed', async () => {
    const a = signedNote('a');
    const b = signedNote('b');
    const c = signedNote('c');
    const ia = await storage.outbox.enqueue({ agentPubkey: a.pubkey, event: a, target: { type: 'own' }, now: T0, deadlineAt: T0 + 10_000 });
    const ib = await storage.outbox.enqueue({ agentPubkey: b.pubkey, event: b, target: { type: 'relays', relays: ['ws://127.0.0.1:1'] }, now: T0 + 1, deadlineAt: T0 + 10_000 });
    await storage.outbox.enqueue({ agentPubkey: 'f'.repeat(64), event: c, target: { type: 'own' }, now: T0, deadlineAt: T0 + 10_000, nextAttemptAt: T0 + 50_000 });
    expect((await storage.outbox.due(T0, 10)).map((r) => r.id)).toEqual([ia]);
    expect((await storage.outbox.due(T0 + 1, 10)).map((r) => r.id)).toEqual([ia, ib]);
    expect((await storage.outbox.due(T0 + 1, 1)).map((r) => r.id)).toEqual([ia]);
    expect(await storage.outbox.nextDue()).toBe(T0);

    await storage.outbox.recordAttempt(ia, {
      results: [{ relay: 'ws://r1', ok: false, message: 'rate-limited: slow down' }, { relay: 'ws://r2', ok: false, message: 'error: down' }],
      accepted: [],
      nextAttemptAt: T0 + 2000,
      now: T0 + 10,
    });
    let row = await storage.outbox.get(ia);
    expect(row).toMatchObject({ attempts: 1, nextAttemptAt: T0 + 2000, lastAttemptAt: T0 + 10, accepted: [] });
    expect(row?.lastError).toContain('rate-limited: slow down');
    expect((await storage.outbox.due(T0 + 1999, 10)).map((r) => r.id)).toEqual([ib]);

    // Backoff past the deadline is clamped, so the row comes due once more to be failed.
    await storage.outbox.recordAttempt(ia, { results: [{ relay: 'ws://r1', ok: true, message: 'duplicate: have it' }], accepted: ['ws://r1'], nextAttemptAt: T0 + 99_000, now: T0 + 2000 });
    row = await storage.outbox.get(ia);
    expect(row).toMatchObject({ attempts: 2, nextAttemptAt: T0 + 10_000, accepted: ['ws://r1'], results: [{ relay: 'ws://r1', ok: true, message: 'duplicate: have it' }] });
    expect(row?.lastError).toBeUndefined();
    await storage.outbox.markDelivered(ia, T0 + 2001);
    expect(await storage.outbox.get(ia)).toMatchObject({ status: 'delivered', deliveredAt: T0 + 2001 });
    // Finished rows ignore further attempts and state changes.
    await storage.outbox.markFailed(ia, 'late', T0 + 3000);
    await storage.outbox.recordAttempt(ia, { results: [], accepted: [], nextAttemptAt: T0, now: T0 });
    expect(await storage.outbox.get(ia)).toMatchObject({ status: 'delivered', attempts: 2 });

    await storage.outbox.markFailed(ib, 'deadline passed', T0 + 10_000);
    expect(await storage.outbox.get(ib)).toMatchObject({ status: 'failed', lastError: 'deadline passed' });
    expect((await storage.outbox.due(T0 + 100_000, 10)).map((r) => r.event.content)).toEqual(['c']);
    expect((await storage.outbox.list({ status: 'pending' })).map((r) => r.event.content)).toEqual(['c']);
    expect((await storage.outbox.list({ agentPubkey: a.pubkey })).map((r) => r.id)).toEqual([ia, ib]);
    expect((await storage.outbox.list({ agentPubkey: a.pubkey, status: 'failed' })).map((r) => r.id)).toEqual([ib]);

    expect(await storage.outbox.prune(T0 + 2500)).toBe(1);
    expect(await storage.outbox.get(ia)).toBeUndefined();
    expect((await storage.outbox.get(ib))?.status).toBe('failed');
  });

  it('picks by lane (conversation: any target but own; background: own, or asked for), leaves out excluded ids, keeps the holder filter', async () => {
    const [own, dm, relays, copy, profile] = ['own', 'dm', 'relays', 'copy', 'profile'].map((t) => signedNote(t));
    const ids = {
      own: await storage.outbox.enqueue({ agentPubkey: own!.pubkey, event: own!, target: { type: 'own' }, now: T0, deadlineAt: T0 + 10_000 }),
      dm: await storage.outbox.enqueue({ agentPubkey: dm!.pubkey, event: dm!, target: { type: 'dm', recipient: RECIPIENT }, now: T0 + 1, deadlineAt: T0 + 10_000 }),
      relays: await storage.outbox.enqueue({ agentPubkey: relays!.pubkey, event: relays!, target: { type: 'relays', relays: ['ws://127.0.0.1:1'] }, now: T0 + 2, deadlineAt: T0 + 10_000 }),
    };
    // Through the tick's commit too (Postgres inserts those rows in one statement of its own).
    await storage.agents.create({ name: 'a', behavior: 'echo', pubkey: 'b'.repeat(64), now: T0 });
    const [copyId] = (await storage.commitTick({ agentIndex: 0, now: T0 + 3, outbox: [{ event: copy!, target: { type: 'own' }, deadlineAt: T0 + 10_000 }] })).outboxIds;
    // A profile goes to listed relays, yet nobody waits for it: queued as background.
    const profileId = await storage.outbox.enqueue({ agentPubkey: profile!.pubkey, event: profile!, target: { type: 'relays', relays: ['ws://127.0.0.1:1'] }, lane: 'background', now: T0 + 4, deadlineAt: T0 + 10_000 });
    expect((await storage.outbox.get(profileId))?.lane).toBe('background');
    expect((await storage.outbox.get(ids.dm))?.lane).toBe('conversation');
    const due = async (filter: Parameters<AgentStorage['outbox']['due']>[2]) => (await storage.outbox.due(T0 + 5, 10, filter)).map((r) => r.id);
    expect(await due({})).toEqual([ids.own, ids.dm, ids.relays, copyId, profileId]);
    expect(await due({ lane: 'conversation' })).toEqual([ids.dm, ids.relays]);
    expect(await due({ lane: 'background' })).toEqual([ids.own, copyId, profileId]);
    expect(await due({ exclude: [ids.own, ids.relays] })).toEqual([ids.dm, copyId, profileId]);
    expect(await due({ lane: 'background', exclude: [ids.own, profileId] })).toEqual([copyId]);
    expect(await due({ exclude: [] })).toEqual([ids.own, ids.dm, ids.relays, copyId, profileId]);
    // Nobody holds agent 0: its row is left out for a holder; the rest are signed by no agent.
    expect(await due({ holder: 'd1', exclude: [ids.dm] })).toEqual([ids.own, ids.relays, profileId]);
  });

  it('settles many attempts in one transaction: retries, deliveries and failures, or none of them', async () => {
    const events = ['a', 'b', 'c'].map((t) => signedNote(t));
    const [a, b, c] = await Promise.all(events.map((event, i) => storage.outbox.enqueue({ agentPubkey: event.pubkey, event, target: { type: 'own' }, now: T0 + i, deadlineAt: T0 + 60_000 })));
    const ok = [{ relay: 'ws://r1', ok: true, message: '' }];
    const no = [{ relay: 'ws://r1', ok: false, message: 'error: timed out' }];
    await storage.outbox.settle([
      { id: a!, attempt: { results: ok, accepted: ['ws://r1'], nextAttemptAt: T0 + 10, now: T0 + 10 }, finish: { status: 'delivered' } },
      { id: b!, attempt: { results: no, accepted: [], nextAttemptAt: T0 + 2_000, now: T0 + 10 } },
      { id: c!, attempt: { results: no, accepted: [], nextAttemptAt: T0 + 10, now: T0 + 10 }, finish: { status: 'failed', reason: 'late' } },
    ]);
    expect(await storage.outbox.get(a!)).toMatchObject({ status: 'delivered', deliveredAt: T0 + 10, attempts: 1, accepted: ['ws://r1'] });
    expect(await storage.outbox.get(b!)).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: T0 + 2_000, lastError: 'ws://r1: error: timed out' });
    expect(await storage.outbox.get(c!)).toMatchObject({ status: 'failed', lastError: 'late', attempts: 1 });
    // A settlement that cannot be written (a relay URL JSON cannot encode) rolls back the whole group.
    const bad = { id: c!, attempt: { results: ok, accepted: [1n as unknown as string], nextAttemptAt: T0 + 20, now: T0 + 20 } };
    await storage.outbox.enqueue({ agentPubkey: events[0]!.pubkey, event: signedNote('d'), target: { type: 'own' }, now: T0, deadlineAt: T0 + 60_000 });
    const d = (await storage.outbox.due(T0 + 100, 10)).find((r) => r.id !== b)!.id;
    await expect(storage.outbox.settle([{ id: b!, attempt: { results: ok, accepted: ['ws://r1'], nextAttemptAt: T0 + 20, now: T0 + 20 }, finish: { status: 'delivered' } }, { ...bad, id: d }])).rejects.toThrow(/BigInt/);
    expect(await storage.outbox.get(b!)).toMatchObject({ status: 'pending', attempts: 1, accepted: [] });
    await storage.outbox.settle([]);
    // A finished row is left alone; a row named twice in one group gets both, in order (accepted relays accumulate).
    await storage.outbox.settle([
      { id: a!, attempt: { results: no, accepted: [], nextAttemptAt: T0 + 30, now: T0 + 30 }, finish: { status: 'failed', reason: 'too late' } },
      { id: b!, attempt: { results: [{ relay: 'ws://r2', ok: true, message: '' }], accepted: ['ws://r2'], nextAttemptAt: T0 + 3_000, now: T0 + 30 } },
      { id: b!, attempt: { results: ok, accepted: ['ws://r1'], nextAttemptAt: T0 + 31, now: T0 + 31 }, finish: { status: 'delivered' } },
    ]);
    expect(await storage.outbox.get(a!)).toMatchObject({ status: 'delivered', deliveredAt: T0 + 10, attempts: 1 });
    expect(await storage.outbox.get(b!)).toMatchObject({ status: 'delivered', deliveredAt: T0 + 31, attempts: 3, accepted: ['ws://r2', 'ws://r1'] });
    expect((await storage.outbox.get(b!))?.lastError).toBeUndefined();
  });

  it('accumulates accepted relays across settles: the stored ones first, each relay once', async () => {
    const event = signedNote('accepted');
    const id = await storage.outbox.enqueue({ agentPubkey: event.pubkey, event, target: { type: 'own' }, now: T0, deadlineAt: T0 + 60_000 });
    const result = (relay: string, ok: boolean) => ({ relay, ok, message: ok ? '' : 'error: down' });
    await storage.outbox.settle([{ id, attempt: { results: [result('ws://r2', true), result('ws://r1', false)], accepted: ['ws://r2'], nextAttemptAt: T0 + 10, now: T0 + 1 } }]);
    // A URL with characters JSON escapes survives the merge as written.
    const odd = 'ws://r"3\\/é';
    await storage.outbox.settle([{ id, attempt: { results: [result('ws://r1', true), result(odd, true), result('ws://r2', true)], accepted: ['ws://r1', odd, 'ws://r2', 'ws://r1'], nextAttemptAt: T0 + 20, now: T0 + 2 } }]);
    expect(await storage.outbox.get(id)).toMatchObject({ status: 'pending', attempts: 2, accepted: ['ws://r2', 'ws://r1', odd] });
    // A new relay goes after every stored one, whatever its place in the new list (the stored list is longer).
    await storage.outbox.settle([{ id, attempt: { results: [result('ws://r4', true), result('ws://r2', true)], accepted: ['ws://r4', 'ws://r2'], nextAttemptAt: T0 + 25, now: T0 + 2 } }]);
    expect(await storage.outbox.get(id)).toMatchObject({ status: 'pending', attempts: 3, accepted: ['ws://r2', 'ws://r1', odd, 'ws://r4'] });
    await storage.outbox.settle([{ id, attempt: { results: [], accepted: [], nextAttemptAt: T0 + 30, now: T0 + 3 }, finish: { status: 'delivered' } }]);
    expect(await storage.outbox.get(id)).toMatchObject({ status: 'delivered', attempts: 4, accepted: ['ws://r2', 'ws://r1', odd, 'ws://r4'] });
  });

  it('survives a reopen (durability)', async () => {
    const event = signedNote('durable');
    await storage.outbox.enqueue({ agentPubkey: event.pubkey, event, target: { type: 'own' }, now: T0, deadlineAt: T0 + 1 });
    await storage.close();
    const again = await db.open();
    expect((await again.outbox.getByEventId(event.id))?.event.sig).toBe(event.sig);
  });
});

describeEngines('processed events and cursors', (fx) => {
  let db: TestDatabase;
  let storage: AgentStorage;
  beforeEach(async () => {
    db = await fx.fresh();
    storage = await db.open();
  });

  it('marks processed idempotently and prunes by age', async () => {
    expect(await storage.processed.isProcessed('e1')).toBe(false);
    expect(await storage.processed.markProcessed('e1', 'inbox', T0)).toBe(true);
    expect(await storage.processed.markProcessed('e1', 'dropped', T0 + 5)).toBe(false);
    await storage.processed.markProcessed('e2', 'dropped:bad-seal', T0 + 1000);
    expect(await storage.processed.prune(T0 + 500)).toBe(1);
    expect(await storage.processed.isProcessed('e1')).toBe(false);
    expect(await storage.processed.isProcessed('e2')).toBe(true);
  });

  it('keeps cursors per relay and never moves them backwards', async () => {
    expect(await storage.cursors.get('wss://a')).toBeUndefined();
    await storage.cursors.set('wss://a', 100);
    await storage.cursors.set('wss://a', 50);
    expect(await storage.cursors.get('wss://a')).toBe(100);
    await storage.cursors.set('wss://a', 150);
    await storage.cursors.set('wss://b', 7);
    expect(await storage.cursors.list()).toEqual([{ relay: 'wss://a', cursor: 150 }, { relay: 'wss://b', cursor: 7 }]);
    await expect(storage.cursors.set('wss://a', 1.5)).rejects.toThrow(/non-negative integer/);
  });
});
