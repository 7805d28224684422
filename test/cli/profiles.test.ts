import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { publishProfiles } from '../../src/cli/profiles.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';
import { ManualClock } from '../../src/util/clock.js';
import { Fixture, signerOf } from '../relay/helpers.js';

const fx = new Fixture();
afterEach(() => fx.cleanup());

/** relay-dev on loopback, a pool on it and an agents database in a temp dir, closed after the test. */
async function openRun() {
  const relay = await fx.relay();
  const pool = new WsRelayPool({ relays: [relay.url], pingIntervalMs: 0 });
  const storage = SqliteAgentStorage.open(join(fx.tempDir(), 'agents.db'));
  fx.onClose(async () => {
    await pool.close();
    await storage.close();
  });
  return { relay, pool, storage };
}

describe('publishProfiles', () => {
  it('paces a first run: one batch of agents per interval of the clock, the outbox woken after each', async () => {
    const { relay, pool, storage } = await openRun();
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
      agents: { count: agents.length, at: (i) => agents[i]! },
      allAgentPubkeys: () => agents.map((a) => a.signer.getPublicKey()),
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

  it('builds each batch of subjects when it is due and reads the owner\'s list of agents once the batches are done', async () => {
    const { relay, pool, storage } = await openRun();
    const owner = signerOf(0x50);
    const agents = [0x51, 0x52, 0x53].map((b, i) => ({ signer: signerOf(b), name: `b${i}`, relays: [relay.url] }));
    const late = signerOf(0x54);
    const clock = new ManualClock(Date.now());
    const built: number[] = [];
    let listRead = 0;
    let firstBatch!: () => void;
    const queuedOnce = new Promise<void>((resolve) => (firstBatch = resolve));
    const run = publishProfiles({
      pool,
      storage,
      owner,
      agents: { count: agents.length, at: (i) => (built.push(i), agents[i]!) },
      allAgentPubkeys: () => {
        listRead++;
        // An agent created while the batches were paced out is on the owner's list too.
        return [...agents.map((a) => a.signer.getPublicKey()), late.getPublicKey()];
      },
      relays: [relay.url],
      now: clock.now(),
      batchSize: 2,
      batchIntervalMs: 1000,
      clock,
      onQueued: () => firstBatch(),
    });
    await queuedOnce;
    // Only the first batch's subjects exist yet; the list is not read before the batches are done.
    expect(built).toEqual([0, 1]);
    expect(listRead).toBe(0);
    await clock.advance(1000);
    expect(await run).toBe(10);
    expect(built).toEqual([0, 1, 2]);
    expect(listRead).toBe(1);
    const list = (await storage.outbox.list()).map((r) => r.event).find((e) => e.pubkey === owner.getPublicKey());
    expect(list?.tags.filter((t) => t[0] === 'p').map((t) => t[1])).toContain(late.getPublicKey());
  });
});
