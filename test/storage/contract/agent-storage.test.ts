import { beforeEach, expect, it } from 'vitest';
import { StorageConflictError, StorageInputError, StorageNotFoundError } from '../../../src/storage/errors.js';
import type { AgentStorage } from '../../../src/storage/types.js';
import { ManualClock } from '../../../src/util/clock.js';
import { describeEngines } from './engines.js';

const T0 = 1_700_000_000_000;
const pk = (n: number): string => n.toString(16).padStart(64, '0');

describeEngines('AgentStorage: agents registry and per-agent memory', (fx) => {
  let storage: AgentStorage;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock(T0);
    storage = await fx.open({ clock });
  });

  it('creates agents at consecutive indexes with account = index + 1, derived pubkeys and unique names', async () => {
    const a = await storage.agents.create({ name: 'alice', behavior: 'echo', pubkey: (i) => pk(100 + i), config: { dmPolicy: 'open' }, now: T0 });
    const b = await storage.agents.create({ name: 'bob', behavior: 'assistant', pubkey: (i) => pk(100 + i), now: T0 + 1 });
    expect(a).toMatchObject({ index: 0, account: 1, pubkey: pk(100), state: 'creating', config: { dmPolicy: 'open' }, ticks: 0, storageBytes: 0 });
    expect(b).toMatchObject({ index: 1, account: 2, pubkey: pk(101), behavior: 'assistant' });
    await expect(storage.agents.create({ name: 'alice', behavior: 'echo', pubkey: pk(5), now: T0 })).rejects.toThrow(StorageConflictError);
    await expect(storage.agents.create({ name: 'carol', behavior: 'echo', pubkey: pk(100), now: T0 })).rejects.toThrow(/already belongs to agent "alice"/);
    await expect(storage.agents.create({ name: '42', behavior: 'echo', pubkey: pk(6), now: T0 })).rejects.toThrow(StorageInputError);
    await expect(storage.agents.create({ name: 'bad name', behavior: 'echo', pubkey: pk(6), now: T0 })).rejects.toThrow(/invalid/);
    await expect(storage.agents.create({ name: 'x', behavior: 'echo', pubkey: 'npub1', now: T0 })).rejects.toThrow(/64-char/);
    expect((await storage.agents.create({ name: 'restored', behavior: 'echo', pubkey: pk(9), index: 7, now: T0 })).account).toBe(8);
    expect((await storage.agents.create({ name: 'next', behavior: 'echo', pubkey: (i) => pk(100 + i), now: T0 })).index).toBe(8);
    expect((await storage.agents.get('bob'))?.index).toBe(1);
    expect((await storage.agents.get(1))?.name).toBe('bob');
    expect((await storage.agents.getByPubkey(pk(100)))?.name).toBe('alice');
    expect((await storage.agents.list()).map((r) => r.name)).toEqual(['alice', 'bob', 'restored', 'next']);
  });

  it('updates state, config and tick counters', async () => {
    await storage.agents.create({ name: 'alice', behavior: 'echo', pubkey: pk(1), now: T0 });
    expect(await storage.agents.updateState('alice', 'active', { now: T0 + 1 })).toMatchObject({ state: 'active', updatedAt: T0 + 1 });
    expect(await storage.agents.list({ state: 'active' })).toHaveLength(1);
    let r = await storage.agents.recordTickResult(0, { ok: false, error: 'boom', at: T0 + 2 });
    r = await storage.agents.recordTickResult(0, { ok: false, error: 'boom again', at: T0 + 3 });
    expect(r).toMatchObject({ ticks: 2, failures: 2, consecutiveFailures: 2, lastError: 'boom again', lastTickAt: T0 + 3 });
    r = await storage.agents.recordTickResult('alice', { ok: true, at: T0 + 4 });
    expect(r).toMatchObject({ ticks: 3, failures: 2, consecutiveFailures: 0 });
    expect((await storage.agents.updateState(0, 'failed', { now: T0 + 5, error: 'too many failures' })).lastError).toBe('too many failures');
    expect((await storage.agents.updateState(0, 'active', { now: T0 + 6, error: undefined })).lastError).toBeUndefined();
    expect((await storage.agents.updateConfig(0, { budget: { dailyTokens: 5 } }, T0 + 7)).config).toEqual({ budget: { dailyTokens: 5 } });
    await expect(storage.agents.updateState('nobody', 'active', { now: T0 })).rejects.toThrow(StorageNotFoundError);
  });

  it('scopes kv per agent: same keys, separate values; list by prefix uses the range', async () => {
    await storage.agents.create({ name: 'a', behavior: 'echo', pubkey: pk(1), now: T0 });
    await storage.agents.create({ name: 'b', behavior: 'echo', pubkey: pk(2), now: T0 });
    const a = storage.kv(0);
    const b = storage.kv(1);
    await a.set('note:1', { text: 'mine' });
    await a.set('note:2', [1, 2, 3]);
    await a.set('note;', 'just past the prefix');
    await a.set('notf', true);
    await a.set('émoji:😀', 'unicode key');
    await b.set('note:1', 'b says');
    expect(await a.get('note:1')).toEqual({ text: 'mine' });
    expect(await b.get('note:1')).toBe('b says');
    expect(await b.get('note:2')).toBeUndefined();
    expect((await a.list('note:')).map((e) => e.key)).toEqual(['note:1', 'note:2']);
    expect(await a.list('note:', { limit: 1 })).toEqual([{ key: 'note:1', value: { text: 'mine' } }]);
    expect((await a.list('émoji')).map((e) => e.value)).toEqual(['unicode key']);
    expect((await a.list()).length).toBe(5);
    expect(await a.list(undefined, { limit: -1 })).toHaveLength(5); // a negative limit is no limit, on every engine
    expect((await b.list()).map((e) => e.key)).toEqual(['note:1']);
    expect(await b.delete('note:2')).toBe(false);
    expect(await a.delete('note:2')).toBe(true);
    expect(await a.get('note:2')).toBeUndefined();
    await expect(a.set('', 1)).rejects.toThrow(StorageInputError);
    await expect(a.set('k', undefined)).rejects.toThrow(/not JSON-serializable/);
    await expect(a.set('k', 10n)).rejects.toThrow(/not JSON-serializable/);
    // A transaction through the tx handle: all or nothing.
    await expect(
      storage.transaction(async (tx) => {
        await tx.kv(0).set('tx:1', 1);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await a.get('tx:1')).toBeUndefined();
    expect(await storage.transaction(async (tx) => (await tx.kv(0).set('tx:2', 2), tx.kv(0).get('tx:2')))).toBe(2);
  });

  it('keeps a running storage total and refuses writes past the limit', async () => {
    await storage.agents.create({ name: 'a', behavior: 'echo', pubkey: pk(1), now: T0 });
    const kv = storage.kv(0, { storageLimitBytes: 100 });
    await kv.set('k', 'x'.repeat(40)); // 1 + 42 bytes
    expect(await storage.budget.storageBytes(0)).toBe(43);
    await kv.set('k', 'é'); // 1 + 4 bytes (é is 2 bytes in UTF-8, plus quotes)
    expect(await storage.budget.storageBytes(0)).toBe(5);
    await expect(kv.set('big', 'y'.repeat(200))).rejects.toThrow(expect.objectContaining({ name: 'StorageBudgetExceededError' }));
    expect(await kv.get('big')).toBeUndefined();
    expect(await storage.budget.storageBytes(0)).toBe(5);
    await storage.facts(0).add('a fact of some length');
    await storage.conversations(0).append({ peer: pk(9), direction: 'in', text: 'hello', at: T0 });
    await storage.goals(0).add('ship it');
    expect((await storage.agents.get(0))?.storageBytes).toBe(5 + 21 + 2 + 5 + 7);
    await kv.delete('k');
    expect(await storage.budget.storageBytes(0)).toBe(21 + 2 + 5 + 7);
  });

  it('keeps conversations per peer (newest last), goals and peers', async () => {
    await storage.agents.create({ name: 'a', behavior: 'echo', pubkey: pk(1), now: T0 });
    await storage.agents.create({ name: 'b', behavior: 'echo', pubkey: pk(2), now: T0 });
    const c = storage.conversations(0);
    for (let i = 0; i < 5; i++) await c.append({ peer: pk(9), direction: i % 2 ? 'out' : 'in', text: `m${i}`, at: T0 + i, ...(i === 0 ? { eventId: 'e0' } : {}) });
    await c.append({ peer: pk(8), direction: 'in', text: 'other peer', at: T0 });
    expect((await c.history(pk(9), 3)).map((m) => m.text)).toEqual(['m2', 'm3', 'm4']);
    expect((await c.history(pk(9)))[0]).toMatchObject({ text: 'm0', eventId: 'e0', direction: 'in' });
    expect(await storage.conversations(1).history(pk(9))).toEqual([]);
    await expect(c.append({ peer: pk(9), direction: 'sideways' as 'in', text: 'x', at: T0 })).rejects.toThrow(/direction/);

    const g = storage.goals(0);
    const goal = await g.add('learn FTS5', { dueAt: T0 + 1000 });
    await g.add('second');
    expect(await g.setStatus(goal.id, 'done')).toBe(true);
    expect(await storage.goals(1).setStatus(goal.id, 'dropped')).toBe(false);
    expect((await g.list({ status: 'open' })).map((x) => x.text)).toEqual(['second']);
    expect((await g.list())[0]).toMatchObject({ text: 'learn FTS5', status: 'done', dueAt: T0 + 1000 });

    const p = storage.peers(0);
    await p.touch(pk(9), T0 + 10);
    await p.touch(pk(9), T0 + 20, { trust: 'trusted' });
    await p.touch(pk(8), T0 + 15);
    expect(await p.get(pk(9))).toEqual({ pubkey: pk(9), firstSeen: T0 + 10, lastSeen: T0 + 20, messageCount: 2, trust: 'trusted' });
    expect((await p.list()).map((x) => x.pubkey)).toEqual([pk(9), pk(8)]);
    expect(await p.setTrust(pk(8), 'blocked')).toBe(true);
    expect(await storage.peers(1).get(pk(9))).toBeUndefined();
  });
});
