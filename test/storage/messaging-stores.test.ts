import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/storage/sqlite/database.js';
import {
  dueOutbox,
  enqueueOutbox,
  getOutbox,
  getOutboxByEventId,
  listOutbox,
  markOutboxDelivered,
  markOutboxFailed,
  nextOutboxDue,
  pruneOutbox,
  recordOutboxAttempt,
} from '../../src/storage/sqlite/outbox-store.js';
import { getProcessed, isProcessed, markProcessed, pruneProcessed } from '../../src/storage/sqlite/processed-store.js';
import { getCursor, listCursors, setCursor } from '../../src/storage/sqlite/cursor-store.js';
import { StorageInputError } from '../../src/storage/errors.js';
import { signedNote, tempDbs } from './helpers.js';

const T0 = 1_700_000_000_000;
const RECIPIENT = 'a'.repeat(64);

describe('outbox store', () => {
  let dbs: ReturnType<typeof tempDbs>;
  let db: Db;
  beforeEach(() => {
    dbs = tempDbs();
    db = dbs.open();
  });
  afterEach(() => dbs.cleanup());

  it('enqueues idempotently by event id, keeping the event byte-exact', () => {
    const event = signedNote('hello');
    const id = enqueueOutbox(db, { agentPubkey: event.pubkey, event, target: { type: 'dm', recipient: RECIPIENT }, now: T0, deadlineAt: T0 + 60_000 });
    const again = enqueueOutbox(db, { agentPubkey: event.pubkey, event, target: { type: 'own' }, now: T0 + 5, deadlineAt: T0 + 1 });
    expect(again).toBe(id);
    const row = getOutboxByEventId(db, event.id);
    expect(row).toMatchObject({ id, status: 'pending', attempts: 0, nextAttemptAt: T0, createdAt: T0, deadlineAt: T0 + 60_000, target: { type: 'dm', recipient: RECIPIENT } });
    expect(row?.event).toEqual(event);
    expect(listOutbox(db)).toHaveLength(1);
  });

  it('works inside a caller transaction and rolls back with it', () => {
    const event = signedNote('in a tx');
    expect(() =>
      db.transaction(() => {
        enqueueOutbox(db, { agentPubkey: event.pubkey, event, target: { type: 'own' }, now: T0, deadlineAt: T0 + 1000 });
        throw new Error('tick failed');
      })(),
    ).toThrow('tick failed');
    expect(getOutboxByEventId(db, event.id)).toBeUndefined();
    db.transaction(() => enqueueOutbox(db, { agentPubkey: event.pubkey, event, target: { type: 'own' }, now: T0, deadlineAt: T0 + 1000 }))();
    expect(getOutboxByEventId(db, event.id)?.status).toBe('pending');
  });

  it('rejects bad targets and ids with a clear error', () => {
    const event = signedNote('bad');
    const base = { agentPubkey: event.pubkey, event, now: T0, deadlineAt: T0 + 1 };
    expect(() => enqueueOutbox(db, { ...base, target: { type: 'dm', recipient: 'npub1xyz' } })).toThrow(StorageInputError);
    expect(() => enqueueOutbox(db, { ...base, target: { type: 'relays', relays: ['http://x'] } })).toThrow(/ws:\/\/ or wss:\/\//);
    expect(() => enqueueOutbox(db, { ...base, event: { ...event, id: 'nope' }, target: { type: 'own' } })).toThrow(/event id/);
    expect(listOutbox(db)).toHaveLength(0);
  });

  it('runs the lifecycle: due → attempt (backoff, clamped to deadline) → delivered / failed', () => {
    const a = signedNote('a');
    const b = signedNote('b');
    const c = signedNote('c');
    const ia = enqueueOutbox(db, { agentPubkey: a.pubkey, event: a, target: { type: 'own' }, now: T0, deadlineAt: T0 + 10_000 });
    const ib = enqueueOutbox(db, { agentPubkey: b.pubkey, event: b, target: { type: 'relays', relays: ['ws://127.0.0.1:1'] }, now: T0 + 1, deadlineAt: T0 + 10_000 });
    enqueueOutbox(db, { agentPubkey: 'f'.repeat(64), event: c, target: { type: 'own' }, now: T0, deadlineAt: T0 + 10_000, nextAttemptAt: T0 + 50_000 });
    expect(dueOutbox(db, T0, 10).map((r) => r.id)).toEqual([ia]);
    expect(dueOutbox(db, T0 + 1, 10).map((r) => r.id)).toEqual([ia, ib]);
    expect(dueOutbox(db, T0 + 1, 1).map((r) => r.id)).toEqual([ia]);
    expect(nextOutboxDue(db)).toBe(T0);

    recordOutboxAttempt(db, ia, {
      results: [{ relay: 'ws://r1', ok: false, message: 'rate-limited: slow down' }, { relay: 'ws://r2', ok: false, message: 'error: down' }],
      accepted: [],
      nextAttemptAt: T0 + 2000,
      now: T0 + 10,
    });
    let row = getOutbox(db, ia);
    expect(row).toMatchObject({ attempts: 1, nextAttemptAt: T0 + 2000, lastAttemptAt: T0 + 10, accepted: [] });
    expect(row?.lastError).toContain('rate-limited: slow down');
    expect(dueOutbox(db, T0 + 1999, 10).map((r) => r.id)).toEqual([ib]);

    // Backoff past the deadline is clamped, so the row comes due once more to be failed.
    recordOutboxAttempt(db, ia, { results: [{ relay: 'ws://r1', ok: true, message: 'duplicate: have it' }], accepted: ['ws://r1'], nextAttemptAt: T0 + 99_000, now: T0 + 2000 });
    row = getOutbox(db, ia);
    expect(row).toMatchObject({ attempts: 2, nextAttemptAt: T0 + 10_000, accepted: ['ws://r1'], results: [{ relay: 'ws://r1', ok: true, message: 'duplicate: have it' }] });
    expect(row?.lastError).toBeUndefined();
    markOutboxDelivered(db, ia, T0 + 2001);
    expect(getOutbox(db, ia)).toMatchObject({ status: 'delivered', deliveredAt: T0 + 2001 });
    // Finished rows ignore further attempts and state changes.
    markOutboxFailed(db, ia, 'late', T0 + 3000);
    recordOutboxAttempt(db, ia, { results: [], accepted: [], nextAttemptAt: T0, now: T0 });
    expect(getOutbox(db, ia)).toMatchObject({ status: 'delivered', attempts: 2 });

    markOutboxFailed(db, ib, 'deadline passed', T0 + 10_000);
    expect(getOutbox(db, ib)).toMatchObject({ status: 'failed', lastError: 'deadline passed' });
    expect(dueOutbox(db, T0 + 100_000, 10).map((r) => r.event.content)).toEqual(['c']);
    expect(listOutbox(db, { status: 'pending' }).map((r) => r.event.content)).toEqual(['c']);
    expect(listOutbox(db, { agentPubkey: a.pubkey }).map((r) => r.id)).toEqual([ia, ib]);
    expect(listOutbox(db, { agentPubkey: a.pubkey, status: 'failed' }).map((r) => r.id)).toEqual([ib]);

    expect(pruneOutbox(db, T0 + 2500)).toBe(1);
    expect(getOutbox(db, ia)).toBeUndefined();
    expect(getOutbox(db, ib)?.status).toBe('failed');
  });

  it('survives a reopen (durability)', () => {
    const event = signedNote('durable');
    enqueueOutbox(db, { agentPubkey: event.pubkey, event, target: { type: 'own' }, now: T0, deadlineAt: T0 + 1 });
    db.close();
    const again = dbs.open();
    expect(getOutboxByEventId(again, event.id)?.event.sig).toBe(event.sig);
  });
});

describe('processed events and cursors', () => {
  let dbs: ReturnType<typeof tempDbs>;
  let db: Db;
  beforeEach(() => {
    dbs = tempDbs();
    db = dbs.open();
  });
  afterEach(() => dbs.cleanup());

  it('marks processed idempotently and prunes by age', () => {
    expect(isProcessed(db, 'e1')).toBe(false);
    expect(markProcessed(db, 'e1', 'inbox', T0)).toBe(true);
    expect(markProcessed(db, 'e1', 'dropped', T0 + 5)).toBe(false);
    expect(getProcessed(db, 'e1')).toEqual({ outcome: 'inbox', processedAt: T0 });
    markProcessed(db, 'e2', 'dropped:bad-seal', T0 + 1000);
    expect(pruneProcessed(db, T0 + 500)).toBe(1);
    expect(isProcessed(db, 'e1')).toBe(false);
    expect(isProcessed(db, 'e2')).toBe(true);
  });

  it('keeps cursors per relay and never moves them backwards', () => {
    expect(getCursor(db, 'wss://a')).toBeUndefined();
    setCursor(db, 'wss://a', 100);
    setCursor(db, 'wss://a', 50);
    expect(getCursor(db, 'wss://a')).toBe(100);
    setCursor(db, 'wss://a', 150);
    setCursor(db, 'wss://b', 7);
    expect(listCursors(db)).toEqual([{ relay: 'wss://a', cursor: 150 }, { relay: 'wss://b', cursor: 7 }]);
    expect(() => setCursor(db, 'wss://a', 1.5)).toThrow(/non-negative integer/);
  });
});
