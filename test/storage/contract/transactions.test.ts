import { beforeEach, expect, it } from 'vitest';
import { StorageConflictError, StorageMisuseError } from '../../../src/storage/errors.js';
import type { AgentStorage } from '../../../src/storage/types.js';
import { signedNote } from '../helpers.js';
import { describeEngines } from './engines.js';

const T0 = Date.parse('2024-03-10T10:00:00Z');
const pk = (n: number): string => n.toString(16).padStart(64, '0');

describeEngines('transactions and the seam rules', (fx) => {
  let storage: AgentStorage;
  beforeEach(async () => {
    storage = await fx.open();
    await storage.agents.create({ name: 'a', behavior: 'echo', pubkey: pk(1), state: 'active', now: T0 });
  });

  it('never interleaves two transactions: concurrent read-modify-writes lose no update', async () => {
    await storage.kv(0).set('counter', 0);
    const bump = (): Promise<void> =>
      storage.transaction(async (tx) => {
        const n = (await tx.kv(0).get<number>('counter')) ?? 0;
        await new Promise((r) => setTimeout(r, 5));
        await tx.kv(0).set('counter', n + 1);
      });
    await Promise.all(Array.from({ length: 5 }, bump));
    expect(await storage.kv(0).get('counter')).toBe(5);
  });

  it('pairs an inbox insert with its processed mark: both or neither', async () => {
    const event = signedNote('dm');
    await expect(
      storage.transaction(async (tx) => {
        await tx.inbox.insert({ agentIndex: 0, trigger: 'dm', eventId: event.id, now: T0 });
        await tx.processed.markProcessed(event.id, 'inbox', T0);
        throw new Error('crash between the two');
      }),
    ).rejects.toThrow('crash between the two');
    expect(await storage.inbox.pending(0)).toEqual([]);
    expect(await storage.processed.isProcessed(event.id)).toBe(false);
    const inserted = await storage.transaction(async (tx) => {
      const row = await tx.inbox.insert({ agentIndex: 0, trigger: 'dm', eventId: event.id, now: T0 });
      await tx.processed.markProcessed(event.id, 'inbox', T0);
      return row;
    });
    expect(inserted.inserted).toBe(true);
    expect(await storage.processed.isProcessed(event.id)).toBe(true);
    expect((await storage.inbox.pending(0)).map((r) => r.id)).toEqual([inserted.id]);
  });

  it('refuses the storage itself inside its own transaction, a dead tx handle, and use after close', async () => {
    await expect(storage.transaction(async () => storage.kv(0).get('x'))).rejects.toThrow(StorageMisuseError);
    let leaked: Parameters<Parameters<AgentStorage['transaction']>[0]>[0] | undefined;
    await storage.transaction(async (tx) => {
      leaked = tx;
    });
    await expect(leaked!.kv(0).get('x')).rejects.toThrow(StorageMisuseError);
    // Work a transaction started but left running may use the storage once the transaction is over.
    let later: Promise<unknown> | undefined;
    await storage.transaction(async () => {
      later = new Promise((r) => setTimeout(r, 20)).then(() => storage.kv(0).get('x'));
    });
    await expect(later).resolves.toBeUndefined();
    // The storage still works after both.
    await storage.kv(0).set('x', 1);
    expect(await storage.kv(0).get('x')).toBe(1);
    await storage.close();
    await expect(storage.kv(0).get('x')).rejects.toThrow(StorageMisuseError);
    await storage.close(); // idempotent
  });

  it('lets exactly one of two concurrent commits consume a trigger', async () => {
    const { id } = await storage.inbox.insert({ agentIndex: 0, trigger: 'manual', now: T0 });
    const commit = (text: string): Promise<unknown> =>
      storage.commitTick({ agentIndex: 0, now: T0 + 1, facts: [{ op: 'add', text }], inbox: { id, status: 'done' } });
    const results = await Promise.allSettled([commit('first answer'), commit('second answer')]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(StorageConflictError);
    expect(await storage.facts(0).list()).toHaveLength(1);
  });

  it('keeps each agent’s trajectory chain head, written in the same transaction as its outbox rows', async () => {
    expect(await storage.chainHeads.get(0)).toBeUndefined();
    const event = signedNote('tick event');
    await storage.transaction(async (tx) => {
      await tx.outbox.enqueue({ agentPubkey: pk(1), event, target: { type: 'own' }, now: T0, deadlineAt: T0 + 1000 });
      await tx.chainHeads.set(0, { seq: 1, lastId: event.id });
    });
    expect(await storage.chainHeads.get(0)).toEqual({ seq: 1, lastId: event.id });
    await expect(
      storage.transaction(async (tx) => {
        await tx.chainHeads.set(0, { seq: 2, lastId: 'x' });
        throw new Error('publish failed');
      }),
    ).rejects.toThrow('publish failed');
    expect(await storage.chainHeads.get(0)).toEqual({ seq: 1, lastId: event.id });
  });
});
