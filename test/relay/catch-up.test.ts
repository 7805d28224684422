/**
 * Catch-up past a relay's result cap, against relay-dev with a small `maxLimit` (read from its NIP-11
 * document): a backlog that arrived while the receiver was offline is delivered in full and exactly
 * once, through page boundaries that split events sharing one second, and the cursor only moves once
 * every page is in and settled.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NostrEvent } from '../../src/protocol/event.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { createChatRumor } from '../../src/protocol/nip17.js';
import { createSeal, createWrap } from '../../src/protocol/nip59.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { InboxSubscriptions, type InboxOptions } from '../../src/relay/subscription-manager.js';
import type { InboundMessage } from '../../src/relay/types.js';
import { getCursor } from '../../src/storage/sqlite/cursor-store.js';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';
import { openDatabase } from '../../src/storage/sqlite/database.js';
import { ManualClock } from '../../src/util/clock.js';
import { ArrayLogger } from '../../src/util/logger.js';
import type { RelayOptions, RunningRelay } from '../../relay-dev/index.js';
import { relayMode } from '../helpers/relay-modes.js';
import { Fixture, signerOf, waitFor } from './helpers.js';

const fx = new Fixture();
afterEach(() => fx.cleanup());

const agent = signerOf(0x31);
const alice = signerOf(0x32);
const BACKLOG = 75;
const CAP = 20;

/**
 * `created_at` of the backlog, newest first: one event per step, except runs that share a second.
 * With a cap of 20 the pages start at 0, 15, 31, 48 and 67: the runs 15–21, 31–37 and 48–52 each
 * straddle a page boundary, so their second is fetched twice.
 */
function timestamps(top: number, step: number): number[] {
  const ts = Array.from({ length: BACKLOG }, (_, p) => top - p * step);
  for (const [start, length] of [[15, 7], [31, 7], [48, 5]] as const) {
    for (let k = 1; k < length; k++) ts[start + k] = ts[start]!;
  }
  return ts;
}

let wrapKey = 0;
function giftWrap(text: string, createdAt: number, now: number): NostrEvent {
  const rumor = createChatRumor(alice.getPublicKey(), { recipients: [agent.getPublicKey()], content: text, createdAt: now });
  const seal = createSeal(rumor, alice, agent.getPublicKey(), createdAt);
  return createWrap(seal, agent.getPublicKey(), hexToBytes((++wrapKey + 0x1000).toString(16).padStart(64, '0')), createdAt);
}

function legacyDm(text: string, createdAt: number): NostrEvent {
  return alice.signEvent({ kind: 4, created_at: createdAt, tags: [['p', agent.getPublicKey()]], content: alice.nip04.encrypt(agent.getPublicKey(), text) });
}

function mention(text: string, createdAt: number): NostrEvent {
  return alice.signEvent({ kind: 1, created_at: createdAt, tags: [['p', agent.getPublicKey()]], content: text });
}

function newPool(): WsRelayPool {
  const p = new WsRelayPool({ backoff: { initialMs: 100, maxMs: 1000, jitter: 0 }, pingIntervalMs: 0 });
  fx.onClose(() => p.close());
  return p;
}

type Sink = InboxOptions['sink'];

/** One run of the receiver (a daemon's lifetime): returns what it got and a stop() that closes everything. */
async function run(file: string, relay: RunningRelay, clock: ManualClock, options: { sink?: (m: InboundMessage) => Promise<void>; extra?: Partial<InboxOptions> } = {}) {
  const db = openDatabase(file);
  const got: InboundMessage[] = [];
  const pool = newPool();
  const sink: Sink = async (m) => {
    await options.sink?.(m);
    got.push(m);
  };
  const logger = new ArrayLogger();
  const inbox = new InboxSubscriptions({ pool, storage: new SqliteAgentStorage(db), relays: [relay.url], sink, clock, logger, checkpointIntervalMs: 100, ...options.extra });
  inbox.addAgent(agent);
  await inbox.start();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await inbox.stop();
    await pool.close();
    db.close();
  };
  fx.onClose(stop);
  return { db, got, inbox, logger, stop };
}

/** Starts a receiver once so the relay has a saved cursor, then stops it; returns that cursor. */
async function firstRun(file: string, relay: RunningRelay, clock: ManualClock): Promise<number> {
  const first = await run(file, relay, clock);
  const cursor = await waitFor('first cursor', () => getCursor(first.db, relay.url) ?? 0);
  await first.stop();
  return cursor;
}

async function publishAll(events: NostrEvent[], relay: RunningRelay): Promise<void> {
  const sender = newPool();
  for (const e of events) expect((await sender.publish(e, { relays: [relay.url] }))[0]).toMatchObject({ ok: true });
}

function expectExactlyOnce(got: InboundMessage[], texts: string[]): void {
  expect(got.map((m) => m.text).sort()).toEqual([...texts].sort());
  expect(new Set(got.map((m) => m.eventId)).size).toBe(got.length);
}

async function setup(options: RelayOptions): Promise<{ relay: RunningRelay; file: string; clock: ManualClock; cursor: number }> {
  const dir = fx.tempDir();
  const relay = await fx.relay({ ...options, dbFile: join(dir, 'relay.db'), limits: { maxLimit: CAP } });
  const clock = new ManualClock(Date.now());
  const file = join(dir, 'agent.db');
  const cursor = await firstRun(file, relay, clock);
  // The receiver is offline for a while; its next run starts later by its own clock.
  await clock.advance(60_000);
  return { relay, file, clock, cursor };
}

// relay-dev's default, and strfry's habits (pages of restricted kinds asked for apart, after AUTH).
describe.each([relayMode('auth on-connect'), relayMode('strfry')])('catch-up past the relay result cap ($name)', ({ options }) => {
  it('delivers a backlog of 75 backdated gift wraps exactly once; the cursor waits for the last page', async () => {
    const { relay, file, clock, cursor } = await setup(options);
    const now = Math.floor(Date.now() / 1000);
    // Backdated up to ~37 hours (well inside the two-day look-back), newest first.
    const ts = timestamps(now - 60, 1800);
    const texts = ts.map((_, p) => `wrap ${p}`);
    await publishAll(ts.map((t, p) => giftWrap(texts[p]!, t, now)), relay);

    // The oldest wrap only comes with the last page; hold its delivery to look at the cursor meanwhile.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const second = await run(file, relay, clock, { sink: (m) => (m.text === `wrap ${BACKLOG - 1}` ? held : Promise.resolve()) });
    await waitFor('every page but the held wrap', () => second.got.length === BACKLOG - 1);
    expect(getCursor(second.db, relay.url)).toBe(cursor);
    // Live delivery goes on while the catch-up is unfinished.
    const [live] = buildDirectMessage(alice, agent.getPublicKey(), 'live during catch-up');
    await publishAll([live!.event], relay);
    expect(getCursor(second.db, relay.url)).toBe(cursor);
    release();
    await waitFor('the held wrap and the live DM', () => second.got.length === BACKLOG + 1);
    const moved = await waitFor('cursor moved', () => (getCursor(second.db, relay.url)! > cursor ? getCursor(second.db, relay.url) : undefined));
    expect(moved).toBe(Math.floor(clock.now() / 1000));
    expectExactlyOnce(second.got, [...texts, 'live during catch-up']);
    expect(second.inbox.counters.delivered).toBe(BACKLOG + 1);
    // The shared seconds at page boundaries came twice and were dropped as duplicates.
    expect(second.inbox.counters.duplicates).toBeGreaterThan(0);
    expect(second.logger.records.some((r) => r.msg === 'caught up past the result cap')).toBe(true);
  });

  it('a wrap whose delivery failed on a deep page keeps the cursor, and the next run delivers it', async () => {
    const { relay, file, clock, cursor } = await setup(options);
    const now = Math.floor(Date.now() / 1000);
    const ts = timestamps(now - 60, 1800);
    const texts = ts.map((_, p) => `wrap ${p}`);
    await publishAll(ts.map((t, p) => giftWrap(texts[p]!, t, now)), relay);

    const failing = `wrap ${BACKLOG - 3}`;
    const second = await run(file, relay, clock, {
      sink: async (m) => {
        if (m.text === failing) throw new Error('disk full');
      },
    });
    await waitFor('all but the failing wrap', () => second.got.length === BACKLOG - 1 && second.inbox.counters.sinkFailures === 1);
    await second.stop();
    const db = openDatabase(file);
    expect(getCursor(db, relay.url)).toBe(cursor);
    db.close();

    await clock.advance(60_000);
    const third = await run(file, relay, clock);
    await waitFor('the failed wrap again', () => third.got.some((m) => m.text === failing));
    await waitFor('cursor moved', () => getCursor(third.db, relay.url)! > cursor);
    // Across both runs every wrap was delivered exactly once.
    expectExactlyOnce([...second.got, ...third.got], texts);
  });

  it('pages kinds 4 and 1 the same way', async () => {
    const { relay, file, clock, cursor } = await setup(options);
    // Kinds 4 and 1 look back only 10 minutes past the cursor: the backlog sits in that window.
    const ts = timestamps(cursor - 30, 7);
    expect(ts.at(-1)!).toBeGreaterThan(cursor - 600);
    const texts = ts.map((_, p) => (p % 2 === 0 ? `dm ${p}` : `note ${p}`));
    await publishAll(ts.map((t, p) => (p % 2 === 0 ? legacyDm(texts[p]!, t) : mention(texts[p]!, t))), relay);
    const second = await run(file, relay, clock);
    await waitFor('the whole backlog', () => second.got.length === BACKLOG);
    await waitFor('cursor moved', () => getCursor(second.db, relay.url)! > cursor);
    expectExactlyOnce(second.got, texts);
    expect(second.got.filter((m) => m.protocol === 'nip04')).toHaveLength(38);
    expect(second.got.filter((m) => m.protocol === 'note')).toHaveLength(37);
  });

  it('a relay that publishes no max_limit is asked for pageLimit events per page, and paged', async () => {
    const { relay, file, clock, cursor } = await setup(options);
    const ts = timestamps(cursor - 30, 7).slice(0, 40);
    const texts = ts.map((_, p) => `dm ${p}`);
    await publishAll(ts.map((t, p) => legacyDm(texts[p]!, t)), relay);
    const second = await run(file, relay, clock, { extra: { relayLimits: async () => undefined, pageLimit: 12 } });
    await waitFor('all 40', () => second.got.length === 40);
    await waitFor('cursor moved', () => getCursor(second.db, relay.url)! > cursor);
    expectExactlyOnce(second.got, texts);
  });

  it('more events in one second than the cap: the catch-up still ends (with a warning) instead of looping', async () => {
    const { relay, file, clock, cursor } = await setup(options);
    const t = cursor - 100;
    await publishAll(Array.from({ length: CAP + 5 }, (_, i) => legacyDm(`same second ${i}`, t)), relay);
    const second = await run(file, relay, clock);
    await waitFor('cursor moved', () => getCursor(second.db, relay.url)! > cursor);
    // NIP-01 paging cannot reach past the cap within one second: the relay only ever returns 20 of them.
    expect(second.got).toHaveLength(CAP);
    expect(second.logger.records.some((r) => r.level === 'warn' && /share one second/.test(r.msg))).toBe(true);
  });
});
