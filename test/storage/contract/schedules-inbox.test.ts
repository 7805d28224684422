import { beforeEach, expect, it } from 'vitest';
import { describeEngines, type TestDatabase } from './engines.js';
import type { AgentStorage } from '../../../src/storage/types.js';

const T0 = Date.parse('2024-03-10T10:00:00Z');
const MIN = 60_000;
const pk = (n: number): string => n.toString(16).padStart(64, '0');

describeEngines('schedules and the inbox', (fx) => {
  let storage: AgentStorage;
  let db: TestDatabase;
  beforeEach(async () => {
    db = await fx.fresh();
    storage = await db.open();
    await storage.agents.create({ name: 'a', behavior: 'assistant', pubkey: pk(1), now: T0 });
    await storage.agents.create({ name: 'b', behavior: 'assistant', pubkey: pk(2), now: T0 });
  });

  it('creates schedules idempotently per agent key', async () => {
    const first = await storage.schedules.create({ agentIndex: 0, spec: { type: 'delayed', delayMs: 5 * MIN }, payload: { text: 'tea' }, key: 'remind-tea', now: T0 });
    const again = await storage.schedules.create({ agentIndex: 0, spec: { type: 'delayed', delayMs: 99 * MIN }, payload: 'other', key: 'remind-tea', now: T0 + 1 });
    const otherAgent = await storage.schedules.create({ agentIndex: 1, spec: { type: 'delayed', delayMs: MIN }, key: 'remind-tea', now: T0 });
    expect(first.created).toBe(true);
    expect(again).toEqual({ record: first.record, created: false });
    expect(first.record).toMatchObject({ agentIndex: 0, nextAt: T0 + 5 * MIN, payload: { text: 'tea' }, key: 'remind-tea', fireCount: 0 });
    expect(otherAgent.created).toBe(true);
    expect((await storage.schedules.getByKey(0, 'remind-tea'))?.id).toBe(first.record.id);
    expect(await storage.schedules.list(0)).toHaveLength(1);
    await expect(storage.schedules.create({ agentIndex: 0, spec: { type: 'cron', expr: 'nope' }, now: T0 })).rejects.toThrow(/expected 5 fields/);
    expect(await storage.schedules.deleteAll(1)).toBe(1);
  });

  it('fires a missed interval once after a gap, then resumes its rhythm, across a restart', async () => {
    const { record } = await storage.schedules.create({ agentIndex: 0, spec: { type: 'interval', everyMs: 10 * MIN }, payload: { ping: true }, now: T0 });
    await storage.schedules.create({ agentIndex: 1, spec: { type: 'at', at: T0 + 30 * MIN }, now: T0 });
    expect(await storage.schedules.nextDue()).toBe(T0 + 10 * MIN);
    expect(await storage.schedules.due(T0 + 10 * MIN - 1)).toEqual([]);
    // The daemon stops; it comes back 2 hours later.
    await storage.close();
    storage = await db.open();
    const later = T0 + 2 * 60 * MIN + 3 * MIN;
    const fired = await storage.schedules.fireDue(later);
    expect(fired.map((f) => f.schedule.agentIndex)).toEqual([0, 1]);
    expect(fired[0]?.dueAt).toBe(T0 + 10 * MIN);
    // One alarm per schedule, not one per missed period.
    expect(await storage.inbox.pending(0)).toHaveLength(1);
    expect((await storage.inbox.pending(0))[0]).toMatchObject({ trigger: 'alarm', payload: { scheduleId: record.id, key: null, dueAt: T0 + 10 * MIN, payload: { ping: true } } });
    expect(await storage.inbox.pending(1)).toHaveLength(1);
    expect(await storage.schedules.fireDue(later)).toEqual([]);
    const next = await storage.schedules.get(record.id);
    expect(next).toMatchObject({ nextAt: T0 + 13 * 10 * MIN, fireCount: 1, lastFiredAt: later });
    // The one-shot is gone.
    expect(await storage.schedules.list(1)).toEqual([]);
    expect(await storage.schedules.markFired(9999, later)).toBeUndefined();
  });

  it('reschedules cron strictly after now', async () => {
    const { record } = await storage.schedules.create({ agentIndex: 0, spec: { type: 'cron', expr: '0 9 * * *' }, now: T0 });
    expect(new Date(record.nextAt).toISOString()).toBe('2024-03-11T09:00:00.000Z');
    const three = Date.parse('2024-03-14T09:00:00Z');
    expect(new Date((await storage.schedules.markFired(record.id, three))!.nextAt).toISOString()).toBe('2024-03-15T09:00:00.000Z');
  });

  it('dedupes inbox rows per agent by event id, keeps arrival order, and finishes each once', async () => {
    const e = 'e'.repeat(64);
    const first = await storage.inbox.insert({ agentIndex: 0, trigger: 'dm', eventId: e, sender: pk(9), payload: { text: 'hi' }, now: T0 });
    const dup = await storage.inbox.insert({ agentIndex: 0, trigger: 'dm', eventId: e, sender: pk(9), payload: { text: 'hi' }, now: T0 + 5 });
    const sameEventOtherAgent = await storage.inbox.insert({ agentIndex: 1, trigger: 'mention', eventId: e, now: T0 });
    const manual1 = await storage.inbox.insert({ agentIndex: 0, trigger: 'manual', payload: 'poke', now: T0 + 1 });
    const manual2 = await storage.inbox.insert({ agentIndex: 0, trigger: 'manual', payload: 'poke', now: T0 + 2 });
    expect(first.inserted).toBe(true);
    expect(dup).toEqual({ id: first.id, inserted: false });
    expect(sameEventOtherAgent.inserted).toBe(true);
    expect(manual2.inserted).toBe(true);
    expect((await storage.inbox.pending(0)).map((r) => r.id)).toEqual([first.id, manual1.id, manual2.id]);
    expect(await storage.inbox.get(first.id)).toMatchObject({ agentIndex: 0, trigger: 'dm', eventId: e, sender: pk(9), payload: { text: 'hi' }, status: 'pending', attempts: 0 });
    expect(await storage.inbox.agentsWithPending()).toEqual([0, 1]);

    expect(await storage.inbox.recordAttempt(manual1.id, { error: 'llm down', retryAt: T0 + MIN, now: T0 + 3 })).toBe(true);
    expect((await storage.inbox.pending(0, { now: T0 + 10 })).map((r) => r.id)).toEqual([first.id, manual2.id]);
    expect(await storage.inbox.get(manual1.id)).toMatchObject({ attempts: 1, reason: 'llm down', notBefore: T0 + MIN });

    expect(await storage.inbox.markDone(first.id, T0 + 20)).toBe(true);
    expect(await storage.inbox.markDone(first.id, T0 + 21)).toBe(false);
    expect(await storage.inbox.markRefused(sameEventOtherAgent.id, 'owner-only policy', T0 + 20)).toBe(true);
    expect(await storage.inbox.markFailed(manual2.id, 'too many attempts', T0 + 20)).toBe(true);
    expect(await storage.inbox.get(sameEventOtherAgent.id)).toMatchObject({ status: 'refused', reason: 'owner-only policy' });
    expect(await storage.inbox.agentsWithPending()).toEqual([0]);
    expect(await storage.inbox.agentsWithPending(T0 + 10)).toEqual([]);
    expect(await storage.inbox.agentsWithPending(T0 + MIN)).toEqual([0]);
    // A replay of a finished trigger is still a duplicate, not a new row.
    expect((await storage.inbox.insert({ agentIndex: 0, trigger: 'dm', eventId: e, now: T0 + 99 })).inserted).toBe(false);
    expect(await storage.inbox.prune(T0 + 21)).toBe(3);
    await expect(storage.inbox.insert({ agentIndex: 0, trigger: 'telepathy' as 'dm', now: T0 })).rejects.toThrow(/inbox trigger must be one of/);
  });

  it('writes the inbox row and the processed mark of its event together, new row or duplicate, or neither', async () => {
    const wrap = 'a1'.repeat(32);
    const first = await storage.inbox.insert({ agentIndex: 0, trigger: 'dm', eventId: wrap, sender: pk(9), payload: { text: 'hi' }, now: T0, processed: { eventId: wrap, outcome: 'delivered' } });
    expect(first.inserted).toBe(true);
    expect(await storage.processed.isProcessed(wrap)).toBe(true);
    expect(await storage.inbox.get(first.id)).toMatchObject({ eventId: wrap, status: 'pending', createdAt: T0 });
    // The same DM in another wrap (one per relay path): a duplicate row, and that wrap is marked too.
    const other = 'b2'.repeat(32);
    const dup = await storage.inbox.insert({ agentIndex: 0, trigger: 'dm', eventId: wrap, now: T0 + 1, processed: { eventId: other, outcome: 'delivered' } });
    expect(dup).toEqual({ id: first.id, inserted: false });
    expect(await storage.processed.isProcessed(other)).toBe(true);
    // An already marked event: the row still goes in, the first mark stays (markProcessed says it was there).
    const again = await storage.inbox.insert({ agentIndex: 1, trigger: 'dm', eventId: other, now: T0 + 2, processed: { eventId: other, outcome: 'delivered' } });
    expect(again.inserted).toBe(true);
    expect(await storage.processed.markProcessed(other, 'delivered', T0 + 3)).toBe(false);

    // A row the database refuses (no such agent): no mark either, so the event is read again.
    const orphan = 'c3'.repeat(32);
    await expect(storage.inbox.insert({ agentIndex: 99, trigger: 'dm', eventId: orphan, now: T0, processed: { eventId: orphan, outcome: 'delivered' } })).rejects.toThrow();
    expect(await storage.processed.isProcessed(orphan)).toBe(false);
    // Inside a caller's transaction that rolls back: neither.
    const rolled = 'd4'.repeat(32);
    await expect(
      storage.transaction(async (tx) => {
        await tx.inbox.insert({ agentIndex: 0, trigger: 'dm', eventId: rolled, now: T0, processed: { eventId: rolled, outcome: 'delivered' } });
        expect(await tx.processed.isProcessed(rolled)).toBe(true);
        throw new Error('tick failed');
      }),
    ).rejects.toThrow('tick failed');
    expect(await storage.processed.isProcessed(rolled)).toBe(false);
    expect((await storage.inbox.pending(0)).map((r) => r.eventId)).toEqual([wrap]);
  });
});
