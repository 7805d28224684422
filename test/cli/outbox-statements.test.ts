/**
 * PostgreSQL only: the statements the daemon sends for the background rows of a DM, counted at the
 * driver (every `pg.Client#query`, BEGIN and COMMIT included). A snapshot's events are one INSERT,
 * with no transaction around it; a tick's trajectory and session events are one INSERT in the tick's
 * transaction. Each of those was one statement per row (the snapshot's inside BEGIN … COMMIT).
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { enqueueSnapshot } from '../../src/cli/daemon-snapshots.js';
import { createTrajectorySink } from '../../src/cli/trajectory-sink.js';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { Kind } from '../../src/protocol/kinds.js';
import { parseAgentConfig } from '../../src/runtime/agent-config.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { openStorage } from '../../src/storage/open.js';
import type { AgentStorage } from '../../src/storage/types.js';
import type { TickRecord } from '../../src/trajectory/types.js';
import { recordStatements } from '../helpers/pg-statements.js';
import { dropTestDatabases, migratedDatabase } from '../helpers/postgres.js';
import { signedNote } from '../storage/helpers.js';

afterAll(dropTestDatabases);
afterEach(() => vi.restoreAllMocks());

const T0 = 1_700_000_000_000;

async function withStorage(fn: (storage: AgentStorage) => Promise<void>): Promise<void> {
  const storage = await openStorage(await migratedDatabase());
  try {
    await fn(storage);
  } finally {
    await storage.close();
  }
}

describe('the outbox statements of a DM on PostgreSQL', () => {
  it('queues a snapshot of five events with one INSERT and no transaction, all of them', async () => {
    await withStorage(async (storage) => {
      const events = ['c0', 'c1', 'c2', 'c3', 'manifest'].map((text) => signedNote(text));
      const sent = recordStatements();
      await enqueueSnapshot(storage, events.map((event) => ({ agentPubkey: event.pubkey, event })), T0);
      expect(sent).toEqual(['INSERT INTO outbox']);
      vi.restoreAllMocks();
      const rows = await storage.outbox.list();
      expect(rows.map((r) => r.eventId)).toEqual(events.map((e) => e.id));
      expect(rows.every((r) => r.target.type === 'own' && r.lane === 'background' && r.deadlineAt > T0)).toBe(true);
    });
  });

  it("records a tick's trajectory with its two events in one INSERT: four statements in all", async () => {
    await loadFastCrypto();
    await withStorage(async (storage) => {
      const signer = new SecretKeySigner(new Uint8Array(32).fill(7));
      const owner = new SecretKeySigner(new Uint8Array(32).fill(9));
      const agent = await storage.agents.create({ name: 'a', behavior: 'echo', pubkey: signer.getPublicKey(), now: T0 });
      const tick: TickRecord = {
        agentPubkey: agent.pubkey, seq: 1, startedAt: T0, endedAt: T0 + 5, trigger: { type: 'manual', at: T0, text: 'hi' },
        steps: [], tokens: { input: 0, output: 0 }, budget: { computeMs: 5, llmCalls: 0, tokens: 0 }, outcome: 'ok', sentEventIds: [],
      };
      const sink = createTrajectorySink({ ownerPubkey: owner.getPublicKey() });
      const config = parseAgentConfig({ behavior: 'echo' });
      let sent: string[] = [];
      await storage.transaction(async (tx) => {
        await tx.commitTick({ agentIndex: agent.index, now: T0 + 5, tick });
        sent = recordStatements();
        await sink.record({ tx, tick, agent, signer, config, now: T0 + 5 });
        vi.restoreAllMocks();
      });
      // The savepoint's RELEASE rides with the chain head read; then the three writes.
      expect(sent.filter((s) => !s.startsWith('RELEASE'))).toEqual(['SELECT head_json FROM', 'INSERT INTO outbox', 'INSERT INTO chain_heads', 'UPDATE ticks SET']);
      const kinds = (await storage.outbox.list({ agentPubkey: agent.pubkey })).map((r) => r.event.kind);
      expect(kinds).toEqual([Kind.TrajectoryTick, Kind.TrajectorySession]);
      expect(await storage.ticks.unpublished(agent.index)).toEqual([]);
    });
  });
});
