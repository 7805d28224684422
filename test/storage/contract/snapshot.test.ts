import { beforeEach, expect, it } from 'vitest';
import { describeEngines } from './engines.js';
import type { AgentStorage } from '../../../src/storage/types.js';
import { StorageBudgetExceededError, StorageInputError } from '../../../src/storage/errors.js';
import { ManualClock } from '../../../src/util/clock.js';

const T0 = Date.parse('2024-03-10T10:00:00Z');
const pk = (n: number): string => n.toString(16).padStart(64, '0');

describeEngines('agent memory snapshots', (fx) => {
  let source: AgentStorage;
  let target: AgentStorage;
  beforeEach(async () => {
    const clock = new ManualClock(T0);
    source = await fx.open({ clock });
    target = await fx.open({ clock });
    for (const s of [source, target]) await s.agents.create({ name: 'a', behavior: 'assistant', pubkey: pk(1), now: T0 });
    await source.agents.create({ name: 'b', behavior: 'assistant', pubkey: pk(2), now: T0 });
  });

  it('round-trips everything an agent remembers into another database, replacing what was there', async () => {
    await source.kv(0).set('prefs', { tea: 'green' });
    await source.kv(1).set('not-mine', 1);
    await source.facts(0).add('Alice likes green tea', { tags: ['drinks'] });
    await source.facts(0).add('Bob likes coffee');
    await source.goals(0).add('buy tea', { dueAt: T0 + 5 });
    await source.peers(0).touch(pk(9), T0, { trust: 'owner' });
    await source.conversations(0).append({ peer: pk(9), direction: 'in', text: 'hi', eventId: 'e1', at: T0 });
    await source.conversations(0).append({ peer: pk(8), direction: 'out', text: 'yo', at: T0 + 1 });
    await source.schedules.create({ agentIndex: 0, spec: { type: 'cron', expr: '0 9 * * *' }, payload: { say: 'morning' }, key: 'daily', now: T0 });
    await target.kv(0).set('stale', true);

    const snap = await source.exportMemory(0);
    const text = JSON.stringify(snap); // as it would travel, encrypted, in a snapshot event
    await target.importMemory(0, text, { now: T0 + 99 });

    expect(await target.kv(0).list()).toEqual([{ key: 'prefs', value: { tea: 'green' } }]);
    expect((await target.facts(0).search('tea'))[0]).toMatchObject({ text: 'Alice likes green tea', tags: ['drinks'] });
    expect((await target.goals(0).list())[0]).toMatchObject({ text: 'buy tea', dueAt: T0 + 5, status: 'open' });
    expect(await target.peers(0).get(pk(9))).toMatchObject({ trust: 'owner', messageCount: 1 });
    expect((await target.conversations(0).history(pk(9)))[0]).toMatchObject({ text: 'hi', eventId: 'e1' });
    expect(await target.schedules.getByKey(0, 'daily')).toMatchObject({ nextAt: (await source.schedules.getByKey(0, 'daily'))!.nextAt, payload: { say: 'morning' } });
    expect(await target.exportMemory(0)).toEqual(snap);
    expect((await target.agents.get(0))?.storageBytes).toBe((await source.agents.get(0))?.storageBytes);
  });

  it('exports the same snapshot on every engine: each part in its order, only this agent, optional fields left out', async () => {
    for (const key of ['é', 'b', 'B', 'a:1']) await source.kv(0).set(key, { key });
    await source.kv(1).set('not-mine', 1);
    await source.facts(0).add('first fact', { tags: ['x', 'y'] });
    await source.facts(0).add('second fact');
    await source.goals(0).add('later', { dueAt: T0 + 9 });
    await source.goals(0).add('open-ended');
    await source.peers(0).touch(pk(7), T0 + 2);
    await source.peers(0).touch(pk(9), T0 + 1, { trust: 'owner' });
    await source.peers(0).touch(pk(8), T0 + 2);
    await source.conversations(0).append({ peer: pk(9), direction: 'in', text: 'late', at: T0 + 5 });
    await source.conversations(0).append({ peer: pk(9), direction: 'out', text: 'early', eventId: 'e0', at: T0 + 1 });
    await source.conversations(0).append({ peer: pk(8), direction: 'in', text: 'same time, second', at: T0 + 5 });
    await source.schedules.create({ agentIndex: 0, spec: { type: 'at', at: T0 + 60_000 }, payload: { n: 2 }, now: T0 });
    await source.schedules.create({ agentIndex: 0, spec: { type: 'at', at: T0 + 30_000 }, payload: null, key: 'soon', now: T0 });
    await source.schedules.create({ agentIndex: 1, spec: { type: 'at', at: T0 + 1 }, payload: null, now: T0 });

    expect(await source.exportMemory(0)).toEqual({
      version: 1,
      kv: ['B', 'a:1', 'b', 'é'].map((key) => ({ key, value: { key } })),
      facts: [
        { text: 'first fact', tags: ['x', 'y'], createdAt: T0 },
        { text: 'second fact', tags: [], createdAt: T0 },
      ],
      goals: [
        { text: 'later', status: 'open', dueAt: T0 + 9, createdAt: T0, updatedAt: T0 },
        { text: 'open-ended', status: 'open', createdAt: T0, updatedAt: T0 },
      ],
      peers: [
        { pubkey: pk(7), firstSeen: T0 + 2, lastSeen: T0 + 2, messageCount: 1, trust: 'unknown' },
        { pubkey: pk(8), firstSeen: T0 + 2, lastSeen: T0 + 2, messageCount: 1, trust: 'unknown' },
        { pubkey: pk(9), firstSeen: T0 + 1, lastSeen: T0 + 1, messageCount: 1, trust: 'owner' },
      ],
      messages: [
        { peer: pk(9), direction: 'out', text: 'early', eventId: 'e0', at: T0 + 1 },
        { peer: pk(9), direction: 'in', text: 'late', at: T0 + 5 },
        { peer: pk(8), direction: 'in', text: 'same time, second', at: T0 + 5 },
      ],
      schedules: [
        { spec: { type: 'at', at: T0 + 30_000 }, payload: null, key: 'soon', nextAt: T0 + 30_000, createdAt: T0 },
        { spec: { type: 'at', at: T0 + 60_000 }, payload: { n: 2 }, nextAt: T0 + 60_000, createdAt: T0 },
      ],
    });
    expect(await source.exportMemory(1)).toMatchObject({ kv: [{ key: 'not-mine', value: 1 }], facts: [], goals: [], peers: [], messages: [] });
  });

  it('rejects malformed snapshots and over-budget restores without touching existing memory', async () => {
    await target.kv(0).set('keep', 'me');
    const good = await source.exportMemory(0);
    await expect(target.importMemory(0, '{not json', { now: T0 })).rejects.toThrow(/not valid JSON/);
    await expect(target.importMemory(0, { ...good, version: 2 }, { now: T0 })).rejects.toThrow(StorageInputError);
    await expect(target.importMemory(0, { ...good, kv: [{ key: 'k', value: 1 }, { key: 'k', value: 2 }] }, { now: T0 })).rejects.toThrow(/duplicate kv key "k"/);
    await expect(target.importMemory(0, { ...good, schedules: [{ spec: { type: 'cron', expr: 'x' }, payload: null, nextAt: 0, createdAt: 0 }] }, { now: T0 })).rejects.toThrow(/expected 5 fields/);
    const big = { ...good, kv: [{ key: 'big', value: 'x'.repeat(2000) }] };
    await expect(target.importMemory(0, big, { now: T0, storageLimitBytes: 1000 })).rejects.toThrow(StorageBudgetExceededError);
    expect(await target.kv(0).list()).toEqual([{ key: 'keep', value: 'me' }]);
  });
});
