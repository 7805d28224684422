/**
 * The ingest pipeline. EVENTs arriving in the same turn of the event loop form a batch: policy hooks run,
 * duplicates skip the signature check, signatures are checked (in worker threads when it pays), then the
 * batch (together with any later batches already checked) is written in one SQLite transaction and every
 * sender gets its OK, in arrival order, after commit.
 * A small batch with nothing ahead of it takes a fast path: each event is checked inline, committed and
 * answered (and broadcast) in the same turn, one after the other (one setImmediate from EVENT to OK
 * instead of three), which is what a DM's hop through the relay looks like; an event whose hook answers
 * asynchronously sends it and the rest of the batch down the normal path, in order.
 */
import type { NostrEvent } from '../src/protocol/event.js';
import { isEphemeralKind } from '../src/protocol/kinds.js';
import { withCorkedSends, type Connection } from './connection.js';
import { serializeForStorage } from './event-meta.js';
import { prefixed } from './prefix.js';
import { INLINE_BELOW } from './verifier.js';
import type { Relay } from './relay.js';
import type { SaveStatus } from './store.js';
import type { RejectEventHook } from './types.js';

interface Item {
  conn: Connection;
  event: NostrEvent;
  raw: string;
}

/** Where an item stands after checks: refused with a message, already stored, or good to go. */
type Verdict = { refuse: string } | 'duplicate' | 'ok';

const ANSWERS: Record<SaveStatus | 'error', [boolean, string]> = {
  saved: [true, ''],
  duplicate: [true, 'duplicate: already have this event'],
  superseded: [true, 'duplicate: a newer version of this replaceable event is already stored'],
  deleted: [false, 'blocked: this event was deleted by its author'],
  error: [false, 'error: the relay could not store this event'],
};

/** A flushed batch waiting for its checks; `verdicts` (or `error`) is set when they are done. */
interface Pending {
  items: Item[];
  verdicts?: Verdict[];
  error?: unknown;
}

/** Most events written in one transaction when several checked batches are waiting. */
const MAX_COMMIT = 4096;

/** Batches EVENTs through checks and storage. */
export class Ingest {
  private batch: Item[] = [];
  private scheduled = false;
  /** Flushed batches in arrival order; the checked ones at the front are committed together. */
  private pending: Pending[] = [];
  private commitScheduled = false;
  private idle: Array<() => void> = [];

  constructor(private readonly relay: Relay) {}

  /** Queues a well-formed event from a connection. */
  submit(conn: Connection, event: NostrEvent): void {
    conn.enter();
    this.batch.push({ conn, event, raw: serializeForStorage(event) });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Resolves once everything submitted so far is committed and answered. */
  async drain(): Promise<void> {
    for (;;) {
      if (this.batch.length > 0) this.flush();
      if (this.pending.length === 0) return;
      await new Promise<void>((resolve) => this.idle.push(resolve));
    }
  }

  private flush(): void {
    this.scheduled = false;
    const items = this.batch;
    this.batch = [];
    if (items.length === 0) return;
    // Nothing ahead to keep order with, and too small for the worker pool: check on this thread, and
    // commit and answer each event as soon as it is checked. A DM's wrap and the sender's own copy
    // arrive together; the wrap is broadcast before the copy's signature is checked (one Schnorr
    // verification less on every DM's path), at the price of a transaction per event in such batches.
    const inline = this.pending.length === 0 && items.length < INLINE_BELOW;
    if (inline) {
      for (let i = 0; i < items.length; i++) {
        const verdict = this.check(items[i]!, true);
        if (isPromise(verdict)) return this.queueChecked(items.slice(i), [verdict, ...items.slice(i + 1).map((item) => this.check(item, true))]);
        this.commitSafely([items[i]!], [verdict]);
      }
      return;
    }
    this.queueChecked(items, items.map((item) => this.check(item, false)));
  }

  /** Queues a batch behind its checks (some asynchronous): committed in arrival order once they are all done. */
  private queueChecked(items: Item[], checks: Array<Verdict | Promise<Verdict>>): void {
    const entry: Pending = { items };
    this.pending.push(entry);
    Promise.all(checks).then(
      (verdicts) => {
        entry.verdicts = verdicts;
        this.scheduleCommit();
      },
      (error: unknown) => {
        entry.error = error;
        this.scheduleCommit();
      },
    );
  }

  /**
   * Commits on the next turn, so that every batch whose checks finished meanwhile (worker answers arrive
   * together under load) shares one transaction: a commit costs about as much for 1,000 events as for 100.
   */
  private scheduleCommit(): void {
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() => this.commitReady());
  }

  private commitReady(): void {
    this.commitScheduled = false;
    const items: Item[] = [];
    const verdicts: Verdict[] = [];
    while (items.length < MAX_COMMIT) {
      const head = this.pending[0];
      if (!head || (head.verdicts === undefined && head.error === undefined)) break;
      this.pending.shift();
      if (head.verdicts) {
        items.push(...head.items);
        verdicts.push(...head.verdicts);
        continue;
      }
      // Checks never reject; should one ever, its batch is refused (after the batches before it).
      if (items.length > 0) this.commitSafely(items.splice(0), verdicts.splice(0));
      this.fail(head.items, head.error);
    }
    if (items.length > 0) this.commitSafely(items, verdicts);
    const head = this.pending[0];
    if (head && (head.verdicts !== undefined || head.error !== undefined)) this.scheduleCommit();
    if (this.pending.length === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  private commitSafely(items: Item[], verdicts: Verdict[]): void {
    try {
      this.commit(items, verdicts);
    } catch (error) {
      this.fail(items, error);
    }
  }

  private fail(items: Item[], error: unknown): void {
    this.relay.logger.log({ level: 'error', ns: 'relay', msg: 'ingest batch failed', error: String(error) });
    for (const item of items) {
      item.conn.ok(item.event.id, false, 'error: the relay failed to process this event');
      item.conn.leave();
    }
  }

  /**
   * The verdict on one item: synchronous while every hook answers synchronously and `inline` asks for the
   * signature to be checked on this thread; a promise from the first hook that returns one, or from the
   * verifier pool. Each hook runs once either way (rate limits count what they see).
   */
  private check(item: Item, inline: boolean, fromHook = 0): Verdict | Promise<Verdict> {
    const hooks = this.relay.rejectEvent;
    for (let i = fromHook; i < hooks.length; i++) {
      let verdict: ReturnType<RejectEventHook>;
      try {
        verdict = hooks[i]!(item.event, item.conn);
      } catch (error) {
        return this.hookFailed(error);
      }
      if (isPromise(verdict)) {
        return verdict.then(
          (v) => (v !== undefined ? { refuse: prefixed(v) } : this.check(item, false, i + 1)),
          (error: unknown) => this.hookFailed(error),
        );
      }
      if (verdict !== undefined) return { refuse: prefixed(verdict) };
    }
    const stored = isEphemeralKind(item.event.kind) ? undefined : this.relay.store.getRaw(item.event.id);
    // The very event already stored: no need to check it again.
    if (stored !== undefined && stored === item.raw) return 'duplicate';
    const judge = (valid: boolean): Verdict =>
      !valid
        ? { refuse: 'invalid: the id or signature does not match the event' }
        : // A stored id with other bytes that still verify: the same event with another (Schnorr) signature.
          stored !== undefined
          ? 'duplicate'
          : 'ok';
    if (inline) return judge(this.relay.verifier.verifyNow(item.event));
    return this.relay.verifier.verify(item.event, item.raw).then(judge);
  }

  private hookFailed(error: unknown): Verdict {
    this.relay.logger.log({ level: 'error', ns: 'relay', msg: 'rejectEvent hook threw', error: String(error) });
    return { refuse: 'error: a relay policy failed on this event' };
  }

  private commit(items: Item[], verdicts: Verdict[]): void {
    const stored = items.filter((item, i) => verdicts[i] === 'ok' && !isEphemeralKind(item.event.kind));
    const statuses = new Map<Item, SaveStatus | 'error'>();
    try {
      const result = this.relay.store.saveBatch(stored);
      stored.forEach((item, i) => statuses.set(item, result[i] ?? 'error'));
    } catch (batchError) {
      // One bad item (or a full disk) must not sink the others: retry one by one.
      this.relay.logger.log({ level: 'warn', ns: 'relay', msg: 'batch write failed, retrying singly', error: String(batchError) });
      for (const item of stored) {
        try {
          statuses.set(item, this.relay.store.saveBatch([item])[0] ?? 'error');
        } catch (error) {
          this.relay.logger.log({ level: 'error', ns: 'relay', msg: 'event write failed', id: item.event.id, error: String(error) });
          statuses.set(item, 'error');
        }
      }
    }
    withCorkedSends(() =>
      items.forEach((item, i) => {
        this.answer(item, verdicts[i] ?? 'ok', statuses.get(item));
        item.conn.leave();
      }),
    );
  }

  private answer(item: Item, verdict: Verdict, status: SaveStatus | 'error' | undefined): void {
    const { relay } = this;
    const { conn, event, raw } = item;
    if (typeof verdict === 'object') {
      if (verdict.refuse.startsWith('invalid:')) relay.stats.invalid++;
      else relay.stats.rejected++;
      return conn.ok(event.id, false, verdict.refuse);
    }
    if (verdict === 'duplicate' || status === 'duplicate' || status === 'superseded') relay.stats.duplicates++;
    if (verdict === 'duplicate') return conn.ok(event.id, true, ANSWERS.duplicate[1]);
    if (status === undefined) {
      // Ephemeral: delivered live, never stored.
      conn.ok(event.id, true, '');
      relay.broadcast(event, raw);
      for (const hook of relay.onEphemeralEvent) safely(relay, () => hook(event));
      return;
    }
    const [accepted, message] = ANSWERS[status];
    conn.ok(event.id, accepted, message);
    if (status !== 'saved') return;
    relay.stats.saved++;
    relay.broadcast(event, raw);
    for (const hook of relay.onEventSaved) safely(relay, () => hook(event));
  }
}

function safely(relay: Relay, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    relay.logger.log({ level: 'error', ns: 'relay', msg: 'hook threw', error: String(error) });
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}
