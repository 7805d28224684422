import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { publishProfiles } from '../../src/cli/profiles.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';
import { ManualClock } from '../../src/util/clock.js';
import { Fixture, signerOf } from '../relay/helpers.js';

const fx = new Fixture();
afterEach(() => fx.cleanup());

describe('publishProfiles', () => {
  it('paces a first run: one batch of agents per interval of the clock, the outbox woken after each', async () => {
    const relay = await fx.relay();
    const pool = new WsRelayPool({ relays: [relay.url], pingIntervalMs: 0 });
    const storage = SqliteAgentStorage.open(join(fx.tempDir(), 'agents.db'));
    fx.onClose(async () => {
      await pool.close();
      await storage.close();
    });
    const owner = signerOf(0x40);
    const agents = [0x41, 0x42, 0x43, 0x44, 0x45].map((b, i) => ({ signer: signerOf(b), name: `a${i}`, relays: [relay.url] }));
    const clock = new ManualClock(Date.now());
    const batches: number[] = [];
    let firstBatch!: () => void;
    const queuedOnce = new Promise<void>((resolve) => (firstBatch = resolve));
    const run = publishProfiles({
      pool,
      storage,
      owner,
      agents,
      allAgentPubkeys: agents.map((a) => a.signer.getPublicKey()),
      relays: [relay.url],
      now: clock.now(),
      batchSize: 2,
      batchIntervalMs: 1000,
      clock,
      onQueued: (n) => {
        batches.push(n);
        firstBatch();
      },
    });
    const pending = async (): Promise<number> => (await storage.outbox.list({ status: 'pending' })).length;
    await queuedOnce;
    // Two agents × (kind 0, 10002, 10050); the next batch waits for the clock.
    expect(await pending()).toBe(6);
    await clock.advance(999);
    expect(await pending()).toBe(6);
    expect(batches).toEqual([6]);
    await clock.advance(1);
    while (batches.length < 2) await new Promise((r) => setTimeout(r, 10));
    expect(await pending()).toBe(12);
    await clock.advance(1000);
    expect(await run).toBe(16);
    // The last batch (one agent) and the owner's agent list.
    expect(batches).toEqual([6, 6, 3, 1]);
    expect(await pending()).toBe(16);
    // Nobody waits for a profile or a relay list: each goes in the outbox's background lane, behind replies.
    expect(new Set((await storage.outbox.list()).map((r) => r.lane))).toEqual(new Set(['background']));
  });
});
