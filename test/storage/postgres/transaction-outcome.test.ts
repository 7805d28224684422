/**
 * PostgreSQL only: a statement that fails inside a transaction aborts it, and COMMIT then answers
 * ROLLBACK instead of an error. A unit whose callback caught such a failure and went on must not
 * be reported committed (SQLite rolls back the one statement and commits the rest; on PostgreSQL
 * nothing of the transaction is kept, so it has to say so).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { StorageMisuseError } from '../../../src/storage/errors.js';
import { openStorage } from '../../../src/storage/open.js';
import { dropTestDatabases, freshDatabase } from '../../helpers/postgres.js';

afterAll(dropTestDatabases);

const T0 = Date.parse('2024-03-10T10:00:00Z');

describe('a PostgreSQL transaction whose failed statement was caught', () => {
  it('is not reported committed, and left nothing behind', async () => {
    const storage = await openStorage(await freshDatabase());
    try {
      await storage.agents.create({ name: 'a', behavior: 'echo', pubkey: '1'.repeat(64), now: T0 });
      const outcome = storage.transaction(async (tx) => {
        await tx.agents.updateConfig('a', { note: 'changed' }, T0 + 1);
        // A trigger for an agent that does not exist: a foreign-key violation, caught by the callback.
        await tx.inbox.insert({ agentIndex: 99, trigger: 'manual', now: T0 + 1 }).catch(() => undefined);
        return 'done';
      });
      await expect(outcome).rejects.toThrow(StorageMisuseError);
      await expect(outcome).rejects.toThrow(/rolled back/);
      expect((await storage.agents.get('a'))?.config).toEqual({});
      // The connection is fine afterwards.
      await storage.transaction(async (tx) => void (await tx.agents.updateConfig('a', { note: 'kept' }, T0 + 2)));
      expect((await storage.agents.get('a'))?.config).toEqual({ note: 'kept' });
    } finally {
      await storage.close();
    }
  });
});
