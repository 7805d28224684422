import { beforeEach, expect, it } from 'vitest';
import { describeEngines } from './engines.js';
import type { AgentStorage } from '../../../src/storage/types.js';
import { StorageBudgetExceededError, StorageConflictError } from '../../../src/storage/errors.js';
import type { TickRecord } from '../../../src/trajectory/types.js';
import { signedNote } from '../helpers.js';

const T0 = Date.parse('2024-03-10T10:00:00Z');
const pk = (n: number): string => n.toString(16).padStart(64, '0');
const PEER = pk(9);

function tick(agentPubkey: string, seq: number, sentEventIds: string[] = []): TickRecord {
  return {
    agentPubkey,
    seq,
    startedAt: T0,
    endedAt: T0 + 40,
    trigger: { type: 'dm', eventId: 'e'.repeat(64), from: PEER, text: 'remember tea', at: T0 },
    steps: [{ type: 'think', at: T0 + 1, ms: 30, tokens: { input: 10, output: 5 } }],
    tokens: { input: 10, output: 5 },
    budget: { computeMs: 40, llmCalls: 1, tokens: 15 },
    outcome: 'ok',
    sentEventIds,
  };
}

describeEngines('commitTick: the exactly-once commit', (fx) => {
  let storage: AgentStorage;
  let agentPubkey: string;
  beforeEach(async () => {
    storage = await fx.open();
    agentPubkey = (await storage.agents.create({ name: 'a', behavior: 'assistant', pubkey: pk(1), state: 'active', now: T0 })).pubkey;
    await storage.agents.create({ name: 'b', behavior: 'assistant', pubkey: pk(2), now: T0 });
  });

  /** Everything the commits below could have written, for before/after comparisons. */
  async function snapshot(): Promise<unknown> {
    return {
      kv: await storage.kv(0).list(),
      facts: await storage.facts(0).list(),
      history: await storage.conversations(0).history(PEER),
      peers: await storage.peers(0).list(),
      goals: await storage.goals(0).list(),
      schedules: await storage.schedules.list(0),
      outbox: await storage.outbox.list(),
      ticks: await storage.ticks.list(0),
      usage: await storage.budget.get(0, '2024-03-10'),
      agent: await storage.agents.get(0),
      inbox: await storage.inbox.pending(0),
    };
  }

  it('applies every buffered effect in one transaction and consumes the trigger', async () => {
    await storage.kv(0).set('old', 1);
    await storage.facts(0).add('my cat is called Tom');
    const { id: inboxId } = await storage.inbox.insert({ agentIndex: 0, trigger: 'dm', eventId: 'e'.repeat(64), sender: PEER, payload: { text: 'remember tea' }, now: T0 });
    const reply = signedNote('noted: tea');
    const result = await storage.commitTick({
      agentIndex: 0,
      now: T0 + 50,
      kv: [{ op: 'set', key: 'mood', value: { happy: true } }, { op: 'delete', key: 'old' }],
      facts: [{ op: 'add', text: 'Alice likes green tea', tags: ['drinks'] }, { op: 'forget', words: 'cat tom' }],
      messages: [
        { peer: PEER, direction: 'in', text: 'remember tea', eventId: 'e'.repeat(64), at: T0 },
        { peer: PEER, direction: 'out', text: 'noted: tea', eventId: reply.id, at: T0 + 45 },
      ],
      peers: [{ pubkey: PEER, at: T0 }],
      goals: [{ op: 'add', text: 'buy tea' }],
      schedules: [{ op: 'create', spec: { type: 'delayed', delayMs: 60_000 }, payload: { say: 'tea time' }, key: 'tea' }],
      outbox: [{ event: reply, target: { type: 'dm', recipient: PEER }, deadlineAt: T0 + 86_400_000 }],
      tick: tick(agentPubkey, await storage.ticks.nextSeq(0), [reply.id]),
      usage: { computeMs: 40, llmCalls: 1, tokens: 15 },
      result: { ok: true },
      inbox: { id: inboxId, status: 'done' },
      storageLimitBytes: 10_000,
    });
    expect(result).toMatchObject({ factIds: [expect.any(Number)], forgotten: 1, goalIds: [expect.any(Number)], scheduleIds: [expect.any(Number)], outboxIds: [expect.any(Number)] });
    expect(result.usage).toMatchObject({ day: '2024-03-10', computeMs: 40, llmCalls: 1, tokens: 15, sats: 0 });
    expect(result.agent).toMatchObject({ ticks: 1, consecutiveFailures: 0, lastTickAt: T0 + 50 });
    expect(result.storageBytes).toBe(await storage.budget.storageBytes(0));
    expect(await storage.kv(0).list()).toEqual([{ key: 'mood', value: { happy: true } }]);
    expect((await storage.facts(0).search('tea')).map((f) => f.text)).toEqual(['Alice likes green tea']);
    expect(await storage.facts(0).search('cat')).toEqual([]);
    expect((await storage.conversations(0).history(PEER)).map((m) => m.direction)).toEqual(['in', 'out']);
    expect((await storage.peers(0).get(PEER))?.messageCount).toBe(1);
    expect((await storage.schedules.getByKey(0, 'tea'))?.nextAt).toBe(T0 + 50 + 60_000);
    expect(await storage.outbox.getByEventId(reply.id)).toMatchObject({ agentPubkey, status: 'pending', nextAttemptAt: T0 + 50 });
    expect(await storage.ticks.last(0)).toEqual(tick(agentPubkey, 1, [reply.id]));
    expect(await storage.ticks.nextSeq(0)).toBe(2);
    expect((await storage.inbox.get(inboxId))?.status).toBe('done');
    expect(await storage.inbox.pending(0)).toEqual([]);

    // The same trigger committed again (a duplicate tick) changes nothing and says why.
    const before = await snapshot();
    await expect(storage.commitTick({ agentIndex: 0, now: T0 + 60, kv: [{ op: 'set', key: 'again', value: 1 }], outbox: [{ event: signedNote('dup'), target: { type: 'own' }, deadlineAt: T0 + 1 }], inbox: { id: inboxId, status: 'done' } }),).rejects.toThrow(StorageConflictError);
    expect(await snapshot()).toEqual(before);
  });

  it('returns outbox ids in the order given, one id per event id, also for repeats and rows already queued', async () => {
    const queued = signedNote('queued before');
    const [a, b] = [signedNote('first'), signedNote('second')];
    const earlier = await storage.outbox.enqueue({ agentPubkey, event: queued, target: { type: 'own' }, now: T0, deadlineAt: T0 + 1_000 });
    const result = await storage.commitTick({
      agentIndex: 0,
      now: T0 + 10,
      outbox: [a, queued, b, a].map((event) => ({ event, target: { type: 'own' as const }, deadlineAt: T0 + 1_000 })),
      messages: [
        { peer: PEER, direction: 'in', text: 'one', at: T0 },
        { peer: PEER, direction: 'out', text: 'two', eventId: a.id, at: T0 + 1 },
        { peer: PEER, direction: 'out', text: 'three', at: T0 + 1 },
      ],
    });
    const [idA, idQueued, idB, idA2] = result.outboxIds;
    expect(idQueued).toBe(earlier);
    expect(idA2).toBe(idA);
    expect(idA! < idB!).toBe(true);
    expect((await storage.outbox.list()).map((e) => e.eventId)).toEqual([queued.id, a.id, b.id]);
    expect((await storage.conversations(0).history(PEER)).map((m) => [m.text, m.eventId])).toEqual([['one', undefined], ['two', a.id], ['three', undefined]]);
  });

  it('leaves nothing behind when a step fails midway', async () => {
    const { id: inboxId } = await storage.inbox.insert({ agentIndex: 0, trigger: 'manual', now: T0 });
    await storage.ticks.append(0, tick(agentPubkey, 1));
    const before = await snapshot();
    // The outbox entry has a bad target: kv, facts, messages, goals and schedules were already applied when it throws.
    await expect(storage.commitTick({
        agentIndex: 0,
        now: T0 + 5,
        kv: [{ op: 'set', key: 'k', value: 'v' }],
        facts: [{ op: 'add', text: 'should vanish' }],
        messages: [{ peer: PEER, direction: 'in', text: 'hi', at: T0 }],
        peers: [{ pubkey: PEER, at: T0 }],
        goals: [{ op: 'add', text: 'should vanish too' }],
        schedules: [{ op: 'create', spec: { type: 'interval', everyMs: 1000 } }],
        outbox: [{ event: signedNote('x'), target: { type: 'dm', recipient: 'not-a-pubkey' }, deadlineAt: T0 }],
        usage: { computeMs: 1 },
        result: { ok: true },
        inbox: { id: inboxId, status: 'done' },
      }),).rejects.toThrow(/invalid outbox target/);
    expect(await snapshot()).toEqual(before);
    // A duplicate tick seq (the tick record is written late) also rolls everything back.
    await expect(storage.commitTick({ agentIndex: 0, now: T0 + 5, kv: [{ op: 'set', key: 'k', value: 'v' }], tick: tick(agentPubkey, 1), inbox: { id: inboxId, status: 'done' } })).rejects.toThrow(
      /already has tick 1/,
    );
    expect(await snapshot()).toEqual(before);
    expect(await storage.facts(0).search('vanish')).toEqual([]);
  });

  it('reports the first failure in the commit\'s order: a handled trigger before a repeated tick and a bad row behind it', async () => {
    const { id: inboxId } = await storage.inbox.insert({ agentIndex: 0, trigger: 'manual', now: T0 });
    await storage.commitTick({ agentIndex: 0, now: T0, tick: tick(agentPubkey, 1), inbox: { id: inboxId, status: 'done' } });
    const before = await snapshot();
    // PostgreSQL sends these statements pipelined: the later ones fail too (a tick seq taken, an
    // aborted transaction), yet the error is the trigger's, as when they ran one by one.
    const replay = storage.commitTick({
      agentIndex: 0,
      now: T0 + 5,
      inbox: { id: inboxId, status: 'done' },
      messages: [{ peer: PEER, direction: 'in', text: 'again', at: T0 }],
      tick: tick(agentPubkey, 1),
      outbox: [{ event: signedNote('late'), target: { type: 'dm', recipient: 'not-a-pubkey' }, deadlineAt: T0 }],
      result: { ok: true },
    });
    await expect(replay).rejects.toThrow(StorageConflictError);
    await expect(replay).rejects.toThrow(/inbox row \d+ is already done/);
    expect(await snapshot()).toEqual(before);
    // An agent that does not exist is said so, before the statements behind its read fail.
    await expect(storage.commitTick({ agentIndex: 7, now: T0, messages: [{ peer: PEER, direction: 'in', text: 'x', at: T0 }], tick: tick(agentPubkey, 1), result: { ok: true } })).rejects.toThrow(/no agent with index 7/);
  });

  it('refuses a commit that would exceed the storage budget, writing nothing, but allows shrinking', async () => {
    const { id: inboxId } = await storage.inbox.insert({ agentIndex: 0, trigger: 'manual', now: T0 });
    await storage.kv(0).set('big', 'x'.repeat(500));
    const before = await snapshot();
    let error: unknown;
    try {
      await storage.commitTick({ agentIndex: 0, now: T0, kv: [{ op: 'set', key: 'more', value: 'y'.repeat(600) }], inbox: { id: inboxId, status: 'done' }, storageLimitBytes: 1000 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StorageBudgetExceededError);
    expect(error).toMatchObject({ agentIndex: 0, limitBytes: 1000 });
    expect((error as Error).message).toMatch(/storage budget exceeded/);
    expect(await snapshot()).toEqual(before);
    // Over a lowered limit, a commit that frees space still goes through.
    await storage.commitTick({ agentIndex: 0, now: T0, kv: [{ op: 'set', key: 'big', value: 'small' }], inbox: { id: inboxId, status: 'refused', reason: 'storage' }, storageLimitBytes: 10 });
    expect(await storage.kv(0).get('big')).toBe('small');
    expect(await storage.inbox.get(inboxId)).toMatchObject({ status: 'refused', reason: 'storage' });
  });

  it('checks the storage limit against the bytes after the whole commit, with and without a tick result', async () => {
    // The "after" of a commit with a result is the row the result's update returns; without one it is read.
    for (const result of [{ ok: true } as const, undefined]) {
      const { id: inboxId } = await storage.inbox.insert({ agentIndex: 0, trigger: 'manual', now: T0 });
      const before = await snapshot();
      const grow = { agentIndex: 0, now: T0, messages: [{ peer: PEER, direction: 'in' as const, text: 'z'.repeat(2000), at: T0 }], inbox: { id: inboxId, status: 'done' as const }, ...(result ? { result } : {}) };
      await expect(storage.commitTick({ ...grow, storageLimitBytes: 1000 })).rejects.toThrow(StorageBudgetExceededError);
      expect(await snapshot()).toEqual(before);
      const committed = await storage.commitTick({ ...grow, storageLimitBytes: 1_000_000 });
      expect(committed.storageBytes).toBe(await storage.budget.storageBytes(0));
      expect(committed.storageBytes).toBeGreaterThanOrEqual(2000);
      expect(committed.agent?.storageBytes).toBe(result ? committed.storageBytes : undefined);
    }
  });

  it('will not consume another agent’s trigger or touch its schedules', async () => {
    const { id: otherInbox } = await storage.inbox.insert({ agentIndex: 1, trigger: 'manual', now: T0 });
    const { record } = await storage.schedules.create({ agentIndex: 1, spec: { type: 'delayed', delayMs: 1 }, key: 'x', now: T0 });
    await expect(storage.commitTick({ agentIndex: 0, now: T0, inbox: { id: otherInbox, status: 'done' } })).rejects.toThrow(/does not belong to agent 0/);
    await storage.commitTick({ agentIndex: 0, now: T0, schedules: [{ op: 'delete', id: record.id }, { op: 'deleteKey', key: 'x' }] });
    expect(await storage.schedules.get(record.id)).toBeDefined();
  });
});

describeEngines('ticks and the budget ledger', (fx) => {
  let storage: AgentStorage;
  beforeEach(async () => {
    storage = await fx.open();
    await storage.agents.create({ name: 'a', behavior: 'echo', pubkey: pk(1), now: T0 });
  });

  it('lists ticks by seq, pages, and tracks publication', async () => {
    for (let seq = 1; seq <= 5; seq++) await storage.ticks.append(0, { ...tick(pk(1), seq), startedAt: T0 + seq * 1000 });
    expect((await storage.ticks.list(0)).map((t) => t.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((await storage.ticks.list(0, { limit: 2 })).map((t) => t.seq)).toEqual([4, 5]);
    expect((await storage.ticks.list(0, { afterSeq: 2, limit: 2 })).map((t) => t.seq)).toEqual([3, 4]);
    expect((await storage.ticks.list(0, { since: T0 + 4000 })).map((t) => t.seq)).toEqual([4, 5]);
    expect((await storage.ticks.get(0, 3))?.startedAt).toBe(T0 + 3000);
    expect(await storage.ticks.markPublished(0, 1, 'f'.repeat(64), T0)).toBe(true);
    expect((await storage.ticks.unpublished(0, 2)).map((t) => t.seq)).toEqual([2, 3]);
    await expect(storage.ticks.append(0, tick(pk(1), 0))).rejects.toThrow(/positive integer/);
  });

  it("gives the latest ticks' trigger event ids without the records, ascending, leaving out ticks without one", async () => {
    for (let seq = 1; seq <= 5; seq++) {
      const base = { ...tick(pk(1), seq), startedAt: T0 + seq * 1000 };
      await storage.ticks.append(0, seq === 3 ? { ...base, trigger: { type: 'alarm', at: T0 } } : { ...base, trigger: { ...base.trigger, eventId: String(seq).repeat(64) } });
    }
    const id = (n: number): string => String(n).repeat(64);
    expect(await storage.ticks.triggers(0, { since: 0, limit: 100 })).toEqual([1, 2, 4, 5].map((n) => ({ eventId: id(n), startedAt: T0 + n * 1000 })));
    // The newest `limit` ticks (the one without an id counts), then `since`.
    expect((await storage.ticks.triggers(0, { since: 0, limit: 3 })).map((t) => t.eventId)).toEqual([id(4), id(5)]);
    expect((await storage.ticks.triggers(0, { since: T0 + 2000, limit: 100 })).map((t) => t.eventId)).toEqual([id(2), id(4), id(5)]);
    expect(await storage.ticks.triggers(1, { since: 0, limit: 100 })).toEqual([]);
  });

  it('adds usage per UTC day and notifies once per metric and level', async () => {
    await storage.budget.add(0, '2024-03-10', { computeMs: 100, tokens: 50 });
    const u = await storage.budget.add(0, '2024-03-10', { computeMs: 50.4, llmCalls: 2, sats: 3 });
    expect(u).toEqual({ day: '2024-03-10', computeMs: 150, llmCalls: 2, tokens: 50, sats: 3, notified80: [], notified100: [] });
    expect(await storage.budget.get(0, '2024-03-11')).toMatchObject({ computeMs: 0, tokens: 0 });
    expect(await storage.budget.markNotified(0, '2024-03-10', 'tokens', 80)).toBe(true);
    expect(await storage.budget.markNotified(0, '2024-03-10', 'tokens', 80)).toBe(false);
    expect(await storage.budget.markNotified(0, '2024-03-10', 'computeMs', 80)).toBe(true);
    expect(await storage.budget.markNotified(0, '2024-03-10', 'tokens', 100)).toBe(true);
    expect(await storage.budget.markNotified(0, '2024-03-11', 'tokens', 80)).toBe(true); // a new day resets
    expect(await storage.budget.get(0, '2024-03-10')).toMatchObject({ notified80: ['computeMs', 'tokens'], notified100: ['tokens'] });
    await expect(storage.budget.add(0, '10/03/2024', {})).rejects.toThrow(/YYYY-MM-DD/);
    await expect(storage.budget.add(0, '2024-03-10', { tokens: -1 })).rejects.toThrow(/non-negative/);
  });
});
