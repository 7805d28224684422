/**
 * The outbox's window through a real relay-dev: bounded rows in flight, none sent twice, conversation
 * rows ahead of queued background rows, outcomes recorded in groups, and a row in flight at a stop
 * still pending (and delivered after the restart). The relay holds events on a hook, so every
 * "in flight" state below is a fact the test waits for, not a moment it hopes to catch.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { finalizeEvent } from '../../src/protocol/crypto.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { OutboxPublisher, type OutboxPublisherOptions } from '../../src/relay/outbox-publisher.js';
import { CachedRelayLists } from '../../src/relay/relay-lists.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import type { OutboxReport } from '../../src/relay/types.js';
import { openDatabase, type Db } from '../../src/storage/sqlite/database.js';
import { enqueueOutbox, getOutboxByEventId, listOutbox } from '../../src/storage/sqlite/outbox-store.js';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';
import type { AgentStorage, OutboxTarget } from '../../src/storage/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { Fixture, signerOf, waitFor } from './helpers.js';

const fx = new Fixture();
afterEach(() => fx.cleanup());

const agent = signerOf(0x41);
const SECRET = hexToBytes('41'.repeat(32));
let counter = 0;
const note = (text: string): NostrEvent => finalizeEvent({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [], content: `${text} ${counter++}` }, SECRET);

/** A relay that holds every event's verdict while `holding`, and records each arrival (an event id per EVENT received). */
async function holdingRelay() {
  const state = { holding: true, arrivals: [] as string[], held: [] as Array<() => void> };
  const relay = await fx.relay({
    limits: { eventsPerSecond: 0 },
    configure: (r) =>
      r.rejectEvent.push((event) => {
        state.arrivals.push(event.id);
        if (!state.holding) return undefined;
        return new Promise<undefined>((resolve) => state.held.push(() => resolve(undefined)));
      }),
  });
  const release = (): void => {
    state.holding = false;
    for (const go of state.held.splice(0)) go();
  };
  return { ...relay, state, release };
}

function publisherOn(storage: Pick<AgentStorage, 'outbox'>, relays: string[], options: Partial<OutboxPublisherOptions> = {}) {
  const pool = new WsRelayPool({ backoff: { initialMs: 100, maxMs: 1000, jitter: 0 }, pingIntervalMs: 0 });
  const reports: OutboxReport[] = [];
  const lists = new CachedRelayLists({ pool, discoveryRelays: () => relays, timeoutMs: 3000 });
  const publisher = new OutboxPublisher({ storage, pool, lists, ownRelays: () => relays, backoff: { initialMs: 50, maxMs: 200, jitter: 0 }, onReport: (r) => reports.push(r), ...options });
  fx.onClose(async () => {
    await publisher.stop();
    await pool.close();
  });
  return { pool, publisher, reports };
}

function queue(db: Db, count: number, target: OutboxTarget, text: string): NostrEvent[] {
  const now = Date.now();
  return Array.from({ length: count }, () => {
    const event = note(text);
    enqueueOutbox(db, { agentPubkey: agent.getPublicKey(), event, target, now, deadlineAt: now + 600_000 });
    return event;
  });
}

const memoryDb = (): Db => {
  const db = openDatabase(':memory:');
  fx.onClose(() => db.close());
  return db;
};

const countsOf = (ids: string[]): Map<string, number> => ids.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<string, number>());

describe('OutboxPublisher window', () => {
  it('keeps at most `window` rows in flight and publishes no row twice, however often it is asked to refill', async () => {
    const relay = await holdingRelay();
    const db = memoryDb();
    const events = queue(db, 40, { type: 'relays', relays: [relay.url] }, 'conversation');
    const { pool, publisher } = publisherOn(new SqliteAgentStorage(db), [relay.url], { window: 10 });
    await pool.addRelay(relay.url).waitConnected({ timeoutMs: 5000 });
    publisher.start();
    await waitFor('a full window at the relay', () => relay.state.arrivals.length === 10);
    expect(publisher.stats()).toMatchObject({ inFlight: 10, conversation: 10, background: 0 });
    // Asked again and again while the window is full: runOnce takes the 30 rows not in flight, through the same window.
    const more = publisher.runOnce();
    for (let i = 0; i < 5; i++) publisher.notify();
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    expect(publisher.stats().inFlight).toBe(10);
    relay.release();
    // runOnce takes at most a window's worth of the rows due.
    const reports = await more;
    expect(reports).toHaveLength(10);
    await waitFor('every row delivered', () => listOutbox(db, { status: 'pending' }).length === 0);
    expect(listOutbox(db, { status: 'delivered' })).toHaveLength(40);
    // Each event reached the relay exactly once, and the window never grew past its bound.
    const counts = countsOf(relay.state.arrivals);
    expect(counts.size).toBe(40);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(relay.state.arrivals)).toEqual(new Set(events.map((e) => e.id)));
    expect(publisher.stats().maxInFlight).toBe(10);
  });

  it('sends a conversation row queued behind a burst of background rows before those rows, past the full background window', async () => {
    const relay = await holdingRelay();
    const db = memoryDb();
    const background = queue(db, 30, { type: 'own' }, 'background');
    const { pool, publisher } = publisherOn(new SqliteAgentStorage(db), [relay.url], { window: 16, backgroundWindow: 4 });
    await pool.addRelay(relay.url).waitConnected({ timeoutMs: 5000 });
    publisher.start();
    await waitFor('the background window full at the relay', () => relay.state.arrivals.length === 4);
    expect(publisher.stats()).toMatchObject({ inFlight: 4, background: 4 });
    const [reply] = queue(db, 1, { type: 'relays', relays: [relay.url] }, 'a reply');
    publisher.notify();
    await waitFor('the reply at the relay', () => relay.state.arrivals.length === 5);
    expect(relay.state.arrivals[4]).toBe(reply!.id);
    relay.release();
    await waitFor('every row delivered', () => listOutbox(db, { status: 'pending' }).length === 0);
    // The 26 background rows still queued when the reply came went out after it, at most 4 at a time.
    expect(relay.state.arrivals.slice(5).sort()).toEqual(background.slice(4).map((e) => e.id).sort());
    expect(publisher.stats().maxInFlight).toBe(5);
  });

  it('records outcomes in groups (at most recordBatch each): those that settle during a transaction share the next ones', async () => {
    const relay = await holdingRelay();
    relay.release();
    const db = memoryDb();
    const storage = new SqliteAgentStorage(db);
    const groups: number[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const counted: Pick<AgentStorage, 'outbox'> = {
      outbox: {
        ...storage.outbox,
        settle: async (settlements) => {
          groups.push(settlements.length);
          if (groups.length === 1) await gate;
          return storage.outbox.settle(settlements);
        },
      },
    };
    const events = queue(db, 50, { type: 'relays', relays: [relay.url] }, 'grouped');
    const { pool, publisher } = publisherOn(counted, [relay.url], { window: 64, recordBatch: 10 });
    await pool.addRelay(relay.url).waitConnected({ timeoutMs: 5000 });
    const round = publisher.runOnce();
    await waitFor('every answer in, the first group still being written', () => groups.length === 1 && publisher.stats().recording === 50 - groups[0]!);
    // Answered OK but not yet recorded: still pending in the database (a crash now would send them again).
    expect(listOutbox(db, { status: 'pending' })).toHaveLength(50);
    open();
    const reports = await round;
    expect(reports.map((r) => r.eventId)).toEqual(events.map((e) => e.id));
    expect(reports.every((r) => r.type === 'delivered')).toBe(true);
    // The first group is what had settled when it began; every other answer waited and went in full groups.
    const rest = 50 - groups[0]!;
    expect(groups.slice(1)).toEqual(Array.from({ length: Math.ceil(rest / 10) }, (_, i) => Math.min(10, rest - i * 10)));
    expect(publisher.stats()).toMatchObject({ groups: groups.length, recorded: 50, inFlight: 0 });
    expect(listOutbox(db, { status: 'delivered' })).toHaveLength(50);
  });

  it('loses nothing when a group cannot be written: its rows stay pending and go out again', async () => {
    const relay = await holdingRelay();
    relay.release();
    const db = memoryDb();
    const storage = new SqliteAgentStorage(db);
    let failures = 1;
    const flaky: Pick<AgentStorage, 'outbox'> = {
      outbox: {
        ...storage.outbox,
        settle: async (settlements) => {
          if (failures-- > 0) throw new Error('disk full');
          return storage.outbox.settle(settlements);
        },
      },
    };
    const events = queue(db, 5, { type: 'relays', relays: [relay.url] }, 'flaky');
    const { pool, publisher } = publisherOn(flaky, [relay.url]);
    await pool.addRelay(relay.url).waitConnected({ timeoutMs: 5000 });
    expect(await publisher.runOnce()).toEqual([]);
    expect(listOutbox(db, { status: 'pending' })).toHaveLength(5);
    const again = await publisher.runOnce();
    expect(again.map((r) => [r.eventId, r.type])).toEqual(events.map((e) => [e.id, 'delivered']));
    // The second time, the relay already had them (`duplicate:` counts as OK).
    expect(again[0]!.results[0]!.message).toMatch(/^duplicate:/);
  });

  it('leaves a row in flight at the stop pending and untouched, and delivers it after a restart', async () => {
    const relay = await holdingRelay();
    const file = join(fx.tempDir(), 'agent.db');
    const db1 = openDatabase(file);
    const [event] = queue(db1, 1, { type: 'own' }, 'in flight at the stop');
    const before = getOutboxByEventId(db1, event!.id)!;
    const first = publisherOn(new SqliteAgentStorage(db1), [relay.url]);
    await first.pool.addRelay(relay.url).waitConnected({ timeoutMs: 5000 });
    first.publisher.start();
    await waitFor('the event at the relay', () => relay.state.arrivals.length === 1);
    expect(first.publisher.stats().inFlight).toBe(1);
    // The crash point: sent, no answer yet. The row is pending as it was queued.
    expect(getOutboxByEventId(db1, event!.id)).toEqual(before);
    await first.publisher.stop();
    await first.pool.close();
    expect(getOutboxByEventId(db1, event!.id)).toEqual(before);
    expect(first.reports).toEqual([]);
    db1.close();
    relay.release();
    const db2 = openDatabase(file);
    fx.onClose(() => db2.close());
    const second = publisherOn(new SqliteAgentStorage(db2), [relay.url]);
    await second.pool.addRelay(relay.url).waitConnected({ timeoutMs: 5000 });
    second.publisher.start();
    await waitFor('delivered after the restart', () => getOutboxByEventId(db2, event!.id)?.status === 'delivered');
    expect(getOutboxByEventId(db2, event!.id)).toMatchObject({ attempts: 1, accepted: [relay.url] });
    expect(relay.relay.store.has(event!.id)).toBe(true);
  });

  it('sends a row queued while the loop refills at once, not at the next poll (the wake is not lost)', async () => {
    const relay = await holdingRelay();
    relay.release();
    const db = memoryDb();
    // Ahead of the rows' times, so they are due; time never moves, so the poll never comes.
    const clock = new ManualClock(Date.now() + 60_000);
    const { pool, publisher } = publisherOn(new SqliteAgentStorage(db), [relay.url], { clock });
    await pool.addRelay(relay.url).waitConnected({ timeoutMs: 5000 });
    publisher.start();
    // The loop's first refill has read the outbox and not finished: the row comes, and the wake with it.
    const [reply] = queue(db, 1, { type: 'relays', relays: [relay.url] }, 'during the refill');
    publisher.notify();
    await waitFor('delivered without a poll', () => getOutboxByEventId(db, reply!.id)?.status === 'delivered', 5000);
  });

  it('drains (background rows may take the whole window then): returns once nothing is due and the window is empty, leaving rows that wait for a retry', async () => {
    const relay = await holdingRelay();
    relay.release();
    const db = memoryDb();
    const delivered = queue(db, 20, { type: 'own' }, 'drained');
    const later = note('not due yet');
    const now = Date.now();
    enqueueOutbox(db, { agentPubkey: agent.getPublicKey(), event: later, target: { type: 'own' }, now, deadlineAt: now + 600_000, nextAttemptAt: now + 600_000 });
    const { pool, publisher } = publisherOn(new SqliteAgentStorage(db), [relay.url], { window: 8, backgroundWindow: 2 });
    await pool.addRelay(relay.url).waitConnected({ timeoutMs: 5000 });
    await publisher.drain(Date.now() + 30_000);
    expect(delivered.map((e) => getOutboxByEventId(db, e.id)?.status)).toEqual(delivered.map(() => 'delivered'));
    expect(getOutboxByEventId(db, later.id)?.status).toBe('pending');
    expect(publisher.stats()).toMatchObject({ inFlight: 0, maxInFlight: 8 });
  });
});
