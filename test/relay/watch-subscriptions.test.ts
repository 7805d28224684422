/**
 * Watch subscriptions against relay-dev: matching events reach the sink once per matching watch,
 * watches share REQs up to the relay's max_filters, each watch listens on its own relays, and after
 * a stop the cursor brings back what was published meanwhile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NostrEvent } from '../../src/protocol/event.js';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { WatchSubscriptions, watchCursorKey, type WatchSpec } from '../../src/relay/watch-subscriptions.js';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';
import { eventually, startTestRelay, stopAll, testPool } from '../helpers/daemon.js';
import { stranger } from '../runtime/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'watch-subs-'));
const storage = SqliteAgentStorage.open(join(dir, 'agents.db'));
beforeAll(loadFastCrypto);
afterAll(async () => {
  await stopAll();
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

const alice = stranger(0x61);
const bob = stranger(0x62);
const now = (): number => Math.floor(Date.now() / 1000);

function note(who: typeof alice, content: string, tags: string[][] = []): NostrEvent {
  return who.signEvent({ kind: 1, created_at: now(), tags, content });
}

describe('watch subscriptions', () => {
  it('delivers matching events per watch, batches REQs by max_filters, watches each watch on its relays, and catches up from the cursor', async () => {
    const main = await startTestRelay();
    const side = await startTestRelay();
    const pool = testPool(main.url);
    const publisher = testPool(main.url);
    const got: Array<[string, string]> = [];
    const make = (): WatchSubscriptions =>
      new WatchSubscriptions({ pool, cursors: storage.cursors, sink: async (w, e) => void got.push([w.id, e.content]), relayLimits: async () => ({ max_filters: 2 }) });
    const start = now() - 5;
    const spec = (id: string, filter: WatchSpec['filter'], relays = [main.url]): WatchSpec => ({ key: `agent:${id}`, agentPubkey: 'a'.repeat(64), id, filter, relays, startAt: start });
    const watches = [spec('deploys', { kinds: [1], '#t': ['deploy'] }), spec('alice', { authors: [alice.getPublicKey()] }), spec('bob', { authors: [bob.getPublicKey()] }), spec('side', { '#t': ['side'] }, [side.url])];
    const subs = make();
    subs.start();
    await subs.set(watches);

    // Three watches on main in REQs of at most two filters: two REQs; one on the side relay.
    const watchReqs = (relay: typeof main): number => [...relay.relay.connections].reduce((n, c) => n + [...c.subs.keys()].filter((id) => id.startsWith('watch-')).length, 0);
    await eventually(() => watchReqs(main) === 2 && watchReqs(side) === 1, 10_000, 'the watch REQs');

    for (const e of [note(alice, 'alice deploys', [['t', 'deploy']]), note(bob, 'bob says hi'), note(stranger(0x63), 'nobody watches this')]) {
      expect((await publisher.publish(e))[0]).toMatchObject({ ok: true });
    }
    expect((await testPool(side.url).publish(note(bob, 'on the side', [['t', 'side']])))[0]).toMatchObject({ ok: true });
    await eventually(() => got.length >= 4, 10_000, 'four deliveries');
    expect(got.sort()).toEqual([['alice', 'alice deploys'], ['bob', 'bob says hi'], ['deploys', 'alice deploys'], ['side', 'on the side']]);

    // Caught up: each watch's cursor on its relay is saved; events published while stopped come back.
    await eventually(async () => (await storage.cursors.get(watchCursorKey(watches[0]!, main.url))) !== undefined, 10_000, 'the cursor');
    await subs.stop();
    got.length = 0;
    expect((await publisher.publish(note(alice, 'while away')))[0]).toMatchObject({ ok: true });
    const again = make();
    again.start();
    await again.set(watches.slice(0, 3));
    await eventually(() => got.some(([, c]) => c === 'while away'), 10_000, 'the event published while stopped');
    expect(got.filter(([, c]) => c === 'while away')).toEqual([['alice', 'while away']]);
    // Removing watches closes their REQs.
    await again.set([]);
    await eventually(() => watchReqs(main) === 0, 10_000, 'REQs closed');
    await again.stop();
  });
});
