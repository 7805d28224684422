/**
 * PostgreSQL only: reads that one seam call makes in one statement, counted at the driver. An
 * agent's memory export (every recovery snapshot reads it) is one statement, not one per table.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { openStorage } from '../../../src/storage/open.js';
import { recordStatements } from '../../helpers/pg-statements.js';
import { dropTestDatabases, migratedDatabase } from '../../helpers/postgres.js';

afterAll(dropTestDatabases);
afterEach(() => vi.restoreAllMocks());

const T0 = Date.parse('2024-03-10T10:00:00Z');

describe('one statement per call on PostgreSQL', () => {
  it('exports an agent’s memory, every part of it, with one SELECT', async () => {
    const storage = await openStorage(await migratedDatabase());
    try {
      const agent = await storage.agents.create({ name: 'a', behavior: 'echo', pubkey: '1'.repeat(64), now: T0 });
      await storage.kv(agent.index).set('k', 'v');
      await storage.facts(agent.index).add('a fact');
      await storage.conversations(agent.index).append({ peer: '2'.repeat(64), direction: 'in', text: 'hi', at: T0 });
      const sent = recordStatements();
      const memory = await storage.exportMemory(agent.index);
      expect(sent).toHaveLength(1);
      expect(memory).toMatchObject({ kv: [{ key: 'k', value: 'v' }], facts: [{ text: 'a fact' }], messages: [{ text: 'hi' }] });
    } finally {
      await storage.close();
    }
  });
});
