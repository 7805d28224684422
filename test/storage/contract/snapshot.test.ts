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
