/** The daemon's TrajectorySink: chained, owner-encrypted tick events queued in the tick's transaction, secrets redacted. */
import { describe, expect, it } from 'vitest';
import { createTrajectorySink } from '../../src/cli/trajectory-sink.js';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { Kind } from '../../src/protocol/kinds.js';
import { deriveFromSeed, mnemonicToSeed } from '../../src/protocol/nip06.js';
import { parseAgentConfig } from '../../src/runtime/agent-config.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';
import type { TickRecord } from '../../src/trajectory/types.js';
import { TEST_MNEMONIC } from '../helpers/daemon.js';

describe('trajectory sink', () => {
  it('queues a chained tick event and its session per tick, with configured API keys redacted', async () => {
    await loadFastCrypto();
    const seed = mnemonicToSeed(TEST_MNEMONIC);
    const owner = new SecretKeySigner(deriveFromSeed(seed, 0).secretKey);
    const signer = new SecretKeySigner(deriveFromSeed(seed, 1).secretKey);
    const storage = SqliteAgentStorage.open(':memory:');
    try {
      const agent = await storage.agents.create({ name: 'a', behavior: 'llm', pubkey: signer.getPublicKey(), now: 1 });
      const apiKey = 'agent-own-key-0123456789abcdef';
      const config = parseAgentConfig({ behavior: 'llm', llm: { model: 'm', apiKey } });
      const sink = createTrajectorySink({ ownerPubkey: owner.getPublicKey(), knownSecrets: ['daemon-wide-key-0123456789'] });
      const tick = (seq: number): TickRecord => ({
        agentPubkey: signer.getPublicKey(), seq, startedAt: 1_700_000_000_000 + seq, endedAt: 1_700_000_000_010 + seq,
        trigger: { type: 'manual', at: 1_700_000_000_000 + seq, text: `use ${apiKey} and daemon-wide-key-0123456789` },
        steps: [{ type: 'think', at: 1_700_000_000_001, ms: 3, detail: { echoed: apiKey } }],
        tokens: { input: 1, output: 2 }, budget: { computeMs: 10, llmCalls: 1, tokens: 3 }, outcome: 'ok', sentEventIds: [],
      });
      for (const seq of [1, 2]) {
        await storage.transaction(async (tx) => {
          await tx.commitTick({ agentIndex: agent.index, now: 1_700_000_000_100 + seq, tick: tick(seq) });
          await sink.record({ tx, tick: tick(seq), agent, signer, config, now: 1_700_000_000_100 + seq });
        });
      }
      const events = (await storage.outbox.list({ agentPubkey: agent.pubkey })).map((row) => row.event);
      const ticks = events.filter((e) => e.kind === Kind.TrajectoryTick);
      expect(ticks).toHaveLength(2);
      expect(events.filter((e) => e.kind === Kind.TrajectorySession)).toHaveLength(2);
      expect(ticks[1]!.tags).toContainEqual(['prev', ticks[0]!.id]);
      expect(await storage.ticks.get(agent.index, 2)).toBeDefined();
      for (const t of ticks) {
        const plain = owner.nip44.decrypt(signer.getPublicKey(), t.content);
        expect(plain).toContain('redacted');
        expect(plain).not.toContain(apiKey);
        expect(plain).not.toContain('daemon-wide-key-0123456789');
      }
    } finally {
      await storage.close();
    }
  });
});
