/**
 * PostgreSQL only: statements issued together (in one turn of the event loop) reach the server in
 * one socket write, inside a transaction and outside one, and each keeps its own result and its own
 * error. Counted at the real sockets to the test server (net.Socket's write calls), not timed.
 */
import { Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { openStorage } from '../../../src/storage/open.js';
import type { AgentStorage } from '../../../src/storage/types.js';
import { dropTestDatabases, migratedDatabase, testServerUrl } from '../../helpers/postgres.js';

afterAll(dropTestDatabases);
afterEach(() => vi.restoreAllMocks());

const T0 = Date.parse('2024-03-10T10:00:00Z');
const PORT = Number(new URL(testServerUrl()).port);

/** Counts the socket writes to the test server from now on (each `_write`/`_writev` is one send). */
function countWrites(): { readonly writes: number } {
  const counter = { writes: 0 };
  const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (this: Socket, ...args: unknown[]) => unknown>;
  for (const method of ['_write', '_writev'] as const) {
    const original = proto[method];
    vi.spyOn(proto, method).mockImplementation(function (this: Socket, ...args: unknown[]) {
      if (this.remotePort === PORT) counter.writes++;
      return original.apply(this, args);
    });
  }
  return counter;
}

async function withAgents(fn: (storage: AgentStorage) => Promise<void>): Promise<void> {
  const storage = await openStorage(await migratedDatabase());
  try {
    for (const [i, name] of ['a', 'b', 'c'].entries()) await storage.agents.create({ name, behavior: 'echo', pubkey: String(i + 1).repeat(64), now: T0 });
    await fn(storage);
  } finally {
    await storage.close();
  }
}

describe('statements issued together on PostgreSQL', () => {
  it('go out in one write inside a transaction: BEGIN and the first statements, then COMMIT', async () => {
    await withAgents(async (storage) => {
      const counter = countWrites();
      const names = await storage.transaction(async (tx) => {
        const agents = await Promise.all([tx.agents.get('a'), tx.agents.get('b'), tx.agents.get('c'), tx.budget.get(0, '2024-03-10'), tx.ticks.nextSeq(0)]);
        expect(counter.writes).toBe(1);
        return agents.slice(0, 3).map((a) => (a as { name: string } | undefined)?.name);
      });
      expect(names).toEqual(['a', 'b', 'c']);
      expect(counter.writes).toBe(2);
    });
  });

  it('go out in one write on one connection outside a transaction, each with its own result and error', async () => {
    await withAgents(async (storage) => {
      const counter = countWrites();
      const results = await Promise.allSettled([
        storage.agents.get('a'),
        // A trigger for an agent that does not exist: a foreign-key violation, for this statement only.
        storage.inbox.insert({ agentIndex: 99, trigger: 'manual', now: T0 }),
        storage.kv(1).set('k', 'v'),
        storage.agents.get('c'),
      ]);
      expect(counter.writes).toBe(1);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect((results[0] as PromiseFulfilledResult<{ name: string }>).value.name).toBe('a');
      expect((results[3] as PromiseFulfilledResult<{ name: string }>).value.name).toBe('c');
      // The write next to the failed statement was committed (autocommit, as on a connection of its own).
      expect(await storage.kv(1).get('k')).toBe('v');
    });
  });

  it('go out in separate writes when issued in separate turns, each answered', async () => {
    await withAgents(async (storage) => {
      const counter = countWrites();
      const first = await storage.agents.get('a');
      const second = await storage.agents.get('b');
      expect([first?.name, second?.name]).toEqual(['a', 'b']);
      expect(counter.writes).toBe(2);
    });
  });
});
