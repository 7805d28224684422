import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';
import { StorageBudgetExceededError, StorageInputError } from '../../src/storage/errors.js';
import { ManualClock } from '../../src/util/clock.js';
import { tempDbs } from './helpers.js';

const T0 = Date.parse('2024-03-10T10:00:00Z');
const pk = (n: number): string => n.toString(16).padStart(64, '0');

describe('agent memory snapshots', () => {
  let dbs: ReturnType<typeof tempDbs>;
  let source: SqliteAgentStorage;
  let target: SqliteAgentStorage;
  beforeEach(() => {
    dbs = tempDbs();
    const clock = new ManualClock(T0);
    source = SqliteAgentStorage.open(join(dbs.dir, 'old-machine.db'), { clock });
    target = SqliteAgentStorage.open(join(dbs.dir, 'new-machine.db'), { clock });
    for (const s of [source, target]) s.agents.create({ name: 'a', behavior: 'assistant', pubkey: pk(1), now: T0 });
    source.agents.create({ name: 'b', behavior: 'assistant', pubkey: pk(2), now: T0 });
  });
  afterEach(() => {
    source.close();
    target.close();
    dbs.cleanup();
  });

  it('round-trips everything an agent remembers into another database, replacing what was there', () => {
    source.kv(0).set('prefs', { tea: 'green' });
    source.kv(1).set('not-mine', 1);
    source.facts(0).add('Alice likes green tea', { tags: ['drinks'] });
    source.facts(0).add('Bob likes coffee');
    source.goals(0).add('buy tea', { dueAt: T0 + 5 });
    source.peers(0).touch(pk(9), T0, { trust: 'owner' });
    source.conversations(0).append({ peer: pk(9), direction: 'in', text: 'hi', eventId: 'e1', at: T0 });
    source.conversations(0).append({ peer: pk(8), direction: 'out', text: 'yo', at: T0 + 1 });
    source.schedules.create({ agentIndex: 0, spec: { type: 'cron', expr: '0 9 * * *' }, payload: { say: 'morning' }, key: 'daily', now: T0 });
    target.kv(0).set('stale', true);

    const snap = source.exportMemory(0);
    const text = JSON.stringify(snap); // as it would travel, encrypted, in a snapshot event
    target.importMemory(0, text, { now: T0 + 99 });

    expect(target.kv(0).list()).toEqual([{ key: 'prefs', value: { tea: 'green' } }]);
    expect(target.facts(0).search('tea')[0]).toMatchObject({ text: 'Alice likes green tea', tags: ['drinks'] });
    expect(target.goals(0).list()[0]).toMatchObject({ text: 'buy tea', dueAt: T0 + 5, status: 'open' });
    expect(target.peers(0).get(pk(9))).toMatchObject({ trust: 'owner', messageCount: 1 });
    expect(target.conversations(0).history(pk(9))[0]).toMatchObject({ text: 'hi', eventId: 'e1' });
    expect(target.schedules.getByKey(0, 'daily')).toMatchObject({ nextAt: source.schedules.getByKey(0, 'daily')!.nextAt, payload: { say: 'morning' } });
    expect(target.exportMemory(0)).toEqual(snap);
    expect(target.agents.get(0)?.storageBytes).toBe(source.agents.get(0)?.storageBytes);
  });

  it('rejects malformed snapshots and over-budget restores without touching existing memory', () => {
    target.kv(0).set('keep', 'me');
    const good = source.exportMemory(0);
    expect(() => target.importMemory(0, '{not json', { now: T0 })).toThrow(/not valid JSON/);
    expect(() => target.importMemory(0, { ...good, version: 2 }, { now: T0 })).toThrow(StorageInputError);
    expect(() => target.importMemory(0, { ...good, kv: [{ key: 'k', value: 1 }, { key: 'k', value: 2 }] }, { now: T0 })).toThrow(/duplicate kv key "k"/);
    expect(() => target.importMemory(0, { ...good, schedules: [{ spec: { type: 'cron', expr: 'x' }, payload: null, nextAt: 0, createdAt: 0 }] }, { now: T0 })).toThrow(/expected 5 fields/);
    const big = { ...good, kv: [{ key: 'big', value: 'x'.repeat(2000) }] };
    expect(() => target.importMemory(0, big, { now: T0, storageLimitBytes: 1000 })).toThrow(StorageBudgetExceededError);
    expect(target.kv(0).list()).toEqual([{ key: 'keep', value: 'me' }]);
  });
});
