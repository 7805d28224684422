/**
 * The outbox's background hold (BACKGROUND_HOLD) through a real relay-dev, on a manual clock: a
 * tick's background rows wait while conversation rows flow, go once the lane has been quiet for
 * `quietMs`, go at `maxMs` under a steady stream (all that are due then, in one flush), and the
 * stop's drain sends them without waiting. Time only moves when the test says so, so "still held"
 * below is a fact about the clock, not a moment the test hopes to catch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { finalizeEvent } from '../../src/protocol/crypto.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { BACKGROUND_HOLD, BackgroundHold } from '../../src/relay/outbox-hold.js';
import { OutboxPublisher } from '../../src/relay/outbox-publisher.js';
import { CachedRelayLists } from '../../src/relay/relay-lists.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import type { OutboxReport } from '../../src/relay/types.js';
import { openDatabase } from '../../src/storage/sqlite/database.js';
import { enqueueOutbox, getOutboxByEventId } from '../../src/storage/sqlite/outbox-store.js';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';
import type { OutboxTarget } from '../../src/storage/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { Fixture, signerOf, waitFor } from './helpers.js';

const fx = new Fixture();
afterEach(() => fx.cleanup());

const agent = signerOf(0x43);
const SECRET = hexToBytes('43'.repeat(32));
const { quietMs, maxMs, flushWindow } = BACKGROUND_HOLD;
let counter = 0;

/** A relay-dev, a memory outbox and a publisher with the default hold on a manual clock. */
async function setup() {
  const arrivals: string[] = [];
  const relay = await fx.relay({ limits: { eventsPerSecond: 0 }, configure: (r) => r.rejectEvent.push((event) => void arrivals.push(event.id)) });
  // A second relay that answers nothing until the test ends: a row sent to it stays in flight.
  const stalled: Array<() => void> = [];
  const silent = await fx.relay({ limits: { eventsPerSecond: 0 }, configure: (r) => r.rejectEvent.push(() => new Promise<undefined>((resolve) => stalled.push(() => resolve(undefined)))) });
  fx.onClose(() => stalled.forEach((go) => go()));
  const db = openDatabase(':memory:');
  fx.onClose(() => db.close());
  const clock = new ManualClock(Date.now());
  const pool = new WsRelayPool({ backoff: { initialMs: 100, maxMs: 1000, jitter: 0 }, pingIntervalMs: 0 });
  const reports: OutboxReport[] = [];
  const lists = new CachedRelayLists({ pool, discoveryRelays: () => [relay.url], timeoutMs: 3000 });
  const publisher = new OutboxPublisher({ storage: new SqliteAgentStorage(db), pool, lists, ownRelays: () => [relay.url], clock, publishTimeoutMs: 60_000, onReport: (r) => reports.push(r) });
  fx.onClose(async () => {
    await publisher.stop();
    await pool.close();
  });
  await pool.addRelay(relay.url).waitConnected({ timeoutMs: 5000 });
  const queue = (count: number, target: OutboxTarget, text: string): NostrEvent[] =>
    Array.from({ length: count }, () => {
      const event = finalizeEvent({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [], content: `${text} ${counter++}` }, SECRET);
      enqueueOutbox(db, { agentPubkey: agent.getPublicKey(), event, target, now: clock.now(), deadlineAt: clock.now() + 600_000 });
      return event;
    });
  /** A tick's background rows (the `own` target: self copy, trajectory), due now. */
  const background = (count: number): NostrEvent[] => queue(count, { type: 'own' }, 'background');
  /** One conversation row: queued, the publisher woken, answered and recorded. */
  const converse = async (): Promise<NostrEvent> => {
    const [reply] = queue(1, { type: 'relays', relays: [relay.url] }, 'reply');
    publisher.notify();
    await waitFor('the reply recorded', () => reports.some((r) => r.eventId === reply!.id && r.type === 'delivered'));
    return reply!;
  };
  const status = (events: NostrEvent[]): string[] => events.map((e) => getOutboxByEventId(db, e.id)!.status);
  const delivered = (events: NostrEvent[]): Promise<boolean> => waitFor('delivered', () => status(events).every((s) => s === 'delivered'));
  /** A conversation row the relay never answers: the lane is busy from now on. */
  const stall = async (): Promise<void> => {
    const [row] = queue(1, { type: 'relays', relays: [silent.url] }, 'stalled');
    publisher.notify();
    await waitFor('the stalled row sent', () => arrivals.includes(row!.id) && stalled.length > 0);
  };
  return { arrivals, clock, publisher, background, converse, stall, status, delivered };
}

describe('OutboxPublisher background hold', () => {
  it('sends background rows at once while no conversation is going on', async () => {
    const { clock, publisher, background, delivered } = await setup();
    const rows = background(3);
    const at = clock.now();
    publisher.start();
    await delivered(rows);
    expect(clock.now()).toBe(at);
  });

  it('holds background rows while conversation rows flow, and sends them once the lane has been quiet for quietMs', async () => {
    const { arrivals, clock, publisher, background, converse, status, delivered } = await setup();
    publisher.start();
    const replies = [await converse()];
    const held = background(3);
    // Gaps shorter than quietMs: the lane is never quiet, though the rows have been due longer than quietMs.
    for (let i = 0; i < 3; i++) {
      await clock.advance(quietMs - 100);
      replies.push(await converse());
    }
    expect(arrivals).toEqual(replies.map((e) => e.id));
    expect(status(held)).toEqual(['pending', 'pending', 'pending']);
    await clock.advance(quietMs);
    await delivered(held);
    expect(arrivals.slice(replies.length).sort()).toEqual(held.map((e) => e.id).sort());
    expect(publisher.stats().holdFlushes).toBe(0);
  });

  it('under a steady stream, sends every due background row once the oldest has waited maxMs (flushWindow in flight), then holds the next ones again', async () => {
    const { arrivals, clock, publisher, background, converse, status, delivered } = await setup();
    const start = clock.now();
    publisher.start();
    await converse();
    const first = background(flushWindow + 2);
    let later: NostrEvent[] = [];
    while (clock.now() + 200 < start + maxMs) {
      await clock.advance(200);
      if (later.length === 0 && clock.now() - start >= maxMs / 2) later = background(2);
      await converse();
    }
    const waiting = [...first, ...later];
    expect(status(waiting)).toEqual(waiting.map(() => 'pending'));
    expect(arrivals.filter((id) => waiting.some((e) => e.id === id))).toEqual([]);
    // The oldest has now been due maxMs: it goes, and the rows of later ticks with it (one flush).
    await clock.advance(start + maxMs - clock.now());
    await converse();
    await delivered(waiting);
    // One flush, at most flushWindow in flight (a DM arriving meanwhile waits behind a few checks, not 64), beside the reply.
    expect(publisher.stats().holdFlushes).toBe(1);
    expect(publisher.stats().maxInFlight).toBeLessThanOrEqual(flushWindow + 1);
    // Rows due after the flush are held again while the stream goes on.
    await clock.advance(200);
    const next = background(2);
    await converse();
    await clock.advance(200);
    await converse();
    expect(status(next)).toEqual(['pending', 'pending']);
  });

  it('sends rows held maxMs even while a conversation row waits for its answer all along (a lane that never empties starves nothing)', async () => {
    const { clock, publisher, background, stall, status, delivered } = await setup();
    publisher.start();
    await stall();
    const held = background(3);
    publisher.notify();
    await clock.advance(maxMs - 100);
    publisher.notify();
    await clock.advance(0);
    expect(status(held)).toEqual(['pending', 'pending', 'pending']);
    // A busy lane is asked every quietMs whether its oldest row has waited maxMs: they go by maxMs + quietMs.
    await clock.advance(100 + quietMs);
    await delivered(held);
    expect(publisher.stats()).toMatchObject({ conversation: 1, holdFlushes: 1 });
  });

  it('widens a flush that falls behind: rows held twice maxMs go more than flushWindow at a time', async () => {
    const { clock, publisher, background, stall, status, delivered } = await setup();
    publisher.start();
    await stall();
    // A backlog the flushes did not keep up with: 4 flush windows of rows, all due for 2 × maxMs.
    const backlog = background(4 * flushWindow);
    await clock.advance(2 * maxMs + quietMs);
    publisher.notify();
    await clock.advance(0);
    await delivered(backlog);
    // Beside the stalled conversation row: more than one flush window in flight at once.
    expect(publisher.stats().maxInFlight).toBeGreaterThan(flushWindow + 1);
    expect(status(backlog)).toEqual(backlog.map(() => 'delivered'));
  });

  it('paces a flush window by the oldest held row (BackgroundHold.pace)', () => {
    const hold = new BackgroundHold();
    const now = 1_000_000;
    expect(hold.flushRoom()).toBe(flushWindow);
    hold.pace(now, now - maxMs, 64); // held maxMs: a flush, not behind yet
    expect(hold.flushRoom()).toBe(flushWindow);
    hold.pace(now, now - 2 * maxMs, 64);
    expect(hold.flushRoom()).toBe(2 * flushWindow);
    hold.pace(now + quietMs - 1, now - 2 * maxMs, 64); // at most once per quietMs
    expect(hold.flushRoom()).toBe(2 * flushWindow);
    for (let i = 1; i <= 4; i++) hold.pace(now + i * quietMs, now - 2 * maxMs, 64);
    expect(hold.flushRoom()).toBe(64);
    hold.pace(now + 5 * quietMs, now + 5 * quietMs - maxMs + 1, 64); // none has waited maxMs: back
    expect(hold.flushRoom()).toBe(flushWindow);
    hold.pace(now + 6 * quietMs, now - 2 * maxMs, 64);
    hold.pace(now + 7 * quietMs, undefined, 64);
    expect(hold.flushRoom()).toBe(flushWindow);
  });

  it('drains held background rows at the stop without waiting for the hold', async () => {
    const { clock, publisher, background, converse, status } = await setup();
    publisher.start();
    await converse();
    const held = background(3);
    publisher.notify();
    const at = clock.now();
    await publisher.drain(at + 10_000);
    expect(status(held)).toEqual(['delivered', 'delivered', 'delivered']);
    await publisher.stop();
    expect(clock.now()).toBe(at);
  });
});
