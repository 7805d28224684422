/**
 * Drives the durable outbox as a pipeline: a window of rows in flight (published, waiting for their
 * relays' answers), refilled as rows settle, never picking a row already in flight. Each outcome
 * (src/relay/outbox-attempt.ts) is recorded in a group with the others that settled meanwhile, one
 * transaction per group, and only then does the row leave the window, so a row is marked delivered
 * only after a relay said OK, and a crash at any point leaves it pending to be sent again.
 *
 * Conversation rows (a DM or reply to someone else) are picked first and always let in. Background
 * rows (self copies, trajectory, session, snapshot events: the `own` target; profiles) have a smaller
 * window of their own and none is let in while a conversation row waits for its answer (but those of
 * a hold's flush, a few at a time, so a lane that never empties starves nothing): a relay
 * checks and stores what arrives together in one batch, so background events sent alongside would
 * hold the reply back behind their signature checks. While conversation rows flow, background rows
 * are also held back a little longer (BACKGROUND_HOLD, src/relay/outbox-hold.ts): the work on
 * them would otherwise land on the shared cores just as the conversation's next message arrives.
 * The stop's `drain` and `runOnce` push what is due now and do not hold.
 */
import { setMaxListeners } from 'node:events';
import type { AgentStorage, OutboxEntry, OutboxLane } from '../storage/types.js';
import { CANCELLED, systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { attemptRow, type AttemptDeps, type AttemptOutcome } from './outbox-attempt.js';
import { BackgroundHold, type BackgroundHoldOptions } from './outbox-hold.js';
import type { BackoffOptions } from './backoff.js';
import type { OwnEchoes } from './own-echoes.js';
import type { OutboxReport, RelayListResolver, RelayPool } from './types.js';
import { sleepLinked } from '../util/linked-signal.js';

/**
 * Options; defaults: window 256 rows in flight, of which at most 64 background rows; background
 * rows held as BACKGROUND_HOLD says (300 ms of quiet, 2 s at most, then flushed 8 in flight); outcomes recorded at most 512
 * per transaction; retries 2 s doubling to 5 min, ±50% jitter; poll every 1 s.
 */
export interface OutboxPublisherOptions {
  /** The outbox, through the storage seam (a group of outcomes is recorded in one transaction). */
  storage: Pick<AgentStorage, 'outbox'>;
  /**
   * This daemon's id when many share the database: only rows of agents it holds by lease are picked
   * (the lease check is in the selecting statement), so a daemon that lost an agent publishes nothing for it.
   */
  holder?: string;
  pool: RelayPool;
  lists: RelayListResolver;
  /** The agent's own write / DM relays (always published to). */
  ownRelays: (agentPubkey: string) => string[];
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
  backoff?: BackoffOptions;
  pollIntervalMs?: number;
  /** Rows in flight at most (conversation and background together). */
  window?: number;
  /** Background rows in flight at most (kept below `window`, so conversation rows always find room). */
  backgroundWindow?: number;
  /** How long background rows wait for the conversation lane to be quiet (BACKGROUND_HOLD; `{ quietMs: 0, maxMs: 0 }`: no hold). */
  backgroundHold?: BackgroundHoldOptions;
  /** Outcomes recorded in one transaction at most. */
  recordBatch?: number;
  /** Rows `runOnce` takes at most (default: the window). */
  batch?: number;
  publishTimeoutMs?: number;
  onReport?: (report: OutboxReport) => void;
  /** Where the `own` copies of gift wraps are noted before they go out, so the inbox does not open them again. */
  ownEchoes?: OwnEchoes;
}

/** What the window holds now, and what it did (tests, benches, metrics). */
export interface OutboxPublisherStats {
  inFlight: number;
  conversation: number;
  background: number;
  /** Outcomes waiting for their group's transaction. */
  recording: number;
  /** Flushes of background rows held for `maxMs` under a steady conversation (BACKGROUND_HOLD). */
  holdFlushes: number;
  /** The most rows ever in flight at once. */
  maxInFlight: number;
  /** Transactions that recorded outcomes, and the outcomes they recorded. */
  groups: number;
  recorded: number;
}

/** The outbox sender. `start` runs it until `stop`; `runOnce` and `drain` push what is due now (tests, the stop). */
export class OutboxPublisher {
  readonly #o: OutboxPublisherOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #deps: AttemptDeps;
  readonly #window: number;
  readonly #backgroundWindow: number;
  /** Rows in flight by id: admitted, until their outcome is recorded (or given up unrecorded). */
  readonly #inFlight = new Map<number, OutboxLane>();
  readonly #lanes: Record<OutboxLane, number> = { conversation: 0, background: 0 };
  readonly #outcomes: AttemptOutcome[] = [];
  readonly #waiters = new Map<number, Array<(report: OutboxReport | undefined) => void>>();
  readonly #stats = { maxInFlight: 0, groups: 0, recorded: 0 };
  readonly #hold: BackgroundHold;
  /** While background rows are held: when they may go (what the loop sleeps to). */
  #holdUntil = Number.NEGATIVE_INFINITY;
  /** A wake is armed for the hold's end (one at a time). */
  #holdWake = false;
  /** While conversation rows are always in flight: when to look again for background rows held `maxMs`. */
  #agedCheckAt = Number.NEGATIVE_INFINITY;
  #recording: Promise<void> | undefined;
  #recordScheduled = false;
  #filling: Promise<void> | undefined;
  #fillAgain = false;
  /** Callers that keep the window refilling without the loop (runOnce, drain). */
  #pushers = 0;
  /** Drains running: background rows may then take the whole window. */
  #draining = 0;
  #loop: Promise<void> | undefined;
  #stop = new AbortController();
  #wake: AbortController = new AbortController();
  /** Aborted (and replaced) whenever rows leave the window: what `drain` waits on. */
  #progress = new AbortController();

  constructor(options: OutboxPublisherOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? silentLogger;
    this.#window = Math.max(1, options.window ?? 256);
    this.#backgroundWindow = Math.max(1, Math.min(options.backgroundWindow ?? 64, this.#window));
    this.#hold = new BackgroundHold(options.backgroundHold);
    this.#deps = { ...options, clock: this.#clock };
    // Every publish in flight listens on the stop signal.
    setMaxListeners(0, this.#stop.signal);
  }

  /** Starts the background loop (idempotent). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Wakes the loop now (call after a transaction enqueued rows). */
  notify(): void {
    this.#wake.abort(CANCELLED);
  }

  /** The window's state and counters. */
  stats(): OutboxPublisherStats {
    return { inFlight: this.#inFlight.size, ...this.#lanes, recording: this.#outcomes.length, holdFlushes: this.#hold.flushes, ...this.#stats };
  }

  /**
   * Stops: no row is let in any more, publishes still waiting are cut short (an attempt cut short is
   * not recorded: its row stays pending), and what settled is recorded before this resolves.
   */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wake.abort(CANCELLED);
    await this.#loop;
    while (this.#inFlight.size > 0) await this.#nextProgress(1000);
    await this.#recording;
    // A runOnce still waiting for rows that will not be let in now hears that they were not sent.
    for (const waiters of this.#waiters.values()) for (const w of waiters) w(undefined);
    this.#waiters.clear();
  }

  /**
   * Attempts every row due now (up to `batch`) once and returns what happened to each, in the rows'
   * order, once each is recorded. The rows go through the window like any others (conversation rows
   * first, background rows once those have their answers), so a row the loop already has in flight
   * is not sent twice.
   */
  async runOnce(options: { signal?: AbortSignal } = {}): Promise<OutboxReport[]> {
    if (this.#stop.signal.aborted) return [];
    const rows = await this.#o.storage.outbox.due(this.#clock.now(), this.#o.batch ?? this.#window, { ...this.#held(), exclude: [...this.#inFlight.keys()] });
    const mine: Array<[number, (report: OutboxReport | undefined) => void]> = [];
    const reports = rows.map((row) => new Promise<OutboxReport | undefined>((resolve) => mine.push([row.id, resolve])));
    for (const [id, resolve] of mine) this.#waiters.set(id, [...(this.#waiters.get(id) ?? []), resolve]);
    this.#pushers++;
    try {
      void this.#fill();
      const done = Promise.all(reports);
      const aborted = options.signal ? new Promise<undefined>((resolve) => options.signal!.addEventListener('abort', () => resolve(undefined), { once: true })) : undefined;
      const all = await (aborted ? Promise.race([done, aborted]) : done);
      return (all ?? []).filter((r): r is OutboxReport => r !== undefined);
    } finally {
      this.#pushers--;
      for (const [id, resolve] of mine) {
        const left = this.#waiters.get(id)?.filter((w) => w !== resolve) ?? [];
        if (left.length > 0) this.#waiters.set(id, left);
        else this.#waiters.delete(id);
      }
    }
  }

  /**
   * Pushes rows through until nothing is due and the window is empty, or `deadline` (ms, this
   * publisher's clock) passes: the stop's last delivery. Rows waiting for a retry are not waited for.
   * Meanwhile background rows may fill the whole window: at the stop no tick is left to answer
   * anyone, and what is queued is the final snapshots (conversation rows still go first).
   */
  async drain(deadline: number): Promise<void> {
    this.#pushers++;
    this.#draining++;
    try {
      while (!this.#stop.signal.aborted && this.#clock.now() < deadline) {
        await this.#fill();
        if (this.#inFlight.size === 0) {
          const due = await this.#o.storage.outbox.due(this.#clock.now(), 1, this.#held());
          if (due.length === 0) return;
          // Came due after the refill (or the refill failed): go round again, without spinning.
          await this.#nextProgress(Math.min(25, deadline - this.#clock.now()));
          continue;
        }
        await this.#nextProgress(deadline - this.#clock.now());
      }
    } finally {
      this.#pushers--;
      this.#draining--;
    }
  }

  #held(): { holder?: string } {
    return this.#o.holder !== undefined ? { holder: this.#o.holder } : {};
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      let wait = this.#o.pollIntervalMs ?? 1000;
      // A fresh wake signal before the refill, not after: a `notify` while it runs (a tick committed
      // after its query) then cuts the sleep short instead of being lost until the next poll.
      if (this.#wake.signal.aborted) this.#wake = new AbortController();
      try {
        await this.#fill();
        // With rows in flight, their settling refills the window; otherwise sleep until the next row is due.
        if (this.#inFlight.size === 0) {
          const next = await this.#o.storage.outbox.nextDue(this.#o.holder !== undefined ? { holder: this.#o.holder } : undefined);
          const now = this.#clock.now();
          // A row due now and not let in is a held background row: sleep to the hold's end, not 0 ms
          // (a conversation retry due meanwhile goes then, at most `quietMs` late).
          if (next !== undefined) wait = Math.min(wait, Math.max(0, (next <= now && this.#holdUntil > now ? this.#holdUntil : next) - now));
        }
      } catch (cause) {
        this.#log.log({ level: 'error', ns: 'outbox', msg: 'could not read the outbox', error: (cause as Error).message });
      }
      await sleepLinked(this.#clock, wait, this.#stop.signal, this.#wake.signal).catch(() => {});
    }
  }

  /** Refills the window (one refill at a time; a call during one makes it go round once more). */
  #fill(): Promise<void> {
    if (this.#filling) {
      this.#fillAgain = true;
      return this.#filling;
    }
    this.#filling = (async () => {
      do {
        this.#fillAgain = false;
        await this.#fillOnce();
      } while (this.#fillAgain && !this.#stop.signal.aborted);
    })()
      .catch((cause: unknown) => this.#log.log({ level: 'error', ns: 'outbox', msg: 'could not read the outbox', error: (cause as Error).message }))
      .finally(() => (this.#filling = undefined));
    return this.#filling;
  }

  async #fillOnce(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    const now = this.#clock.now();
    const room = this.#window - this.#inFlight.size;
    if (room <= 0) return;
    const conversation = await this.#o.storage.outbox.due(now, room, { ...this.#held(), lane: 'conversation', exclude: [...this.#inFlight.keys()] });
    for (const row of conversation) this.#admit(row);
    if (this.#stop.signal.aborted) return;
    const conversing = this.#lanes.conversation > 0;
    // While conversation rows wait for their answers only a flush's rows go (below), and a lane that
    // never empties (many senders) is asked at most every `quietMs` whether its oldest row is due.
    if (conversing && (this.#pushers > 0 || now < this.#agedCheckAt)) return;
    // A drain or runOnce pushes what is due now: no hold. Held (no quiet yet), a flush keeps few in flight.
    const held = this.#pushers === 0 && !this.#hold.quiet(now, conversing);
    const cutoff = held ? this.#hold.cutoff(now) : now;
    const backgroundWindow = this.#draining > 0 ? this.#window : held ? Math.min(this.#hold.flushRoom(), this.#backgroundWindow) : this.#backgroundWindow;
    const backgroundRoom = Math.min(this.#window - this.#inFlight.size, backgroundWindow - this.#lanes.background);
    if (backgroundRoom <= 0) return;
    const pick = (upTo: number): Promise<OutboxEntry[]> => this.#o.storage.outbox.due(upTo, backgroundRoom, { ...this.#held(), lane: 'background', exclude: [...this.#inFlight.keys()] });
    let background = await pick(cutoff);
    if (held) this.#hold.pace(now, background[0]?.nextAttemptAt, this.#backgroundWindow);
    // Rows come oldest first: the first one held `maxMs` means a flush of everything due now.
    if (held && cutoff < now) {
      if (this.#hold.flush(now, background[0]?.nextAttemptAt)) background = await pick(now);
      // Wake when the lane will have been quiet long enough, or (a lane that stays busy) at the next look for aged rows.
      else this.#armHoldWake(conversing ? now + this.#hold.quietMs : this.#hold.quietAt());
    }
    if (conversing && background.length === 0) this.#agedCheckAt = now + this.#hold.quietMs;
    for (const row of background) this.#admit(row);
  }

  /** Wakes the loop at `at`, when held rows may go (one wake armed at a time: it finds the lane busy again and re-arms). */
  #armHoldWake(at: number): void {
    this.#holdUntil = at;
    if (this.#holdWake || this.#stop.signal.aborted) return;
    this.#holdWake = true;
    const over = (): void => {
      this.#holdWake = false;
    };
    sleepLinked(this.#clock, at - this.#clock.now(), this.#stop.signal).then(() => {
      over();
      this.notify();
    }, over);
  }

  #admit(row: OutboxEntry): void {
    if (this.#inFlight.has(row.id) || this.#stop.signal.aborted) return;
    const lane = row.lane;
    if (lane === 'conversation') this.#hold.conversation(this.#clock.now());
    this.#inFlight.set(row.id, lane);
    this.#lanes[lane]++;
    this.#stats.maxInFlight = Math.max(this.#stats.maxInFlight, this.#inFlight.size);
    attemptRow(row, this.#deps, this.#stop.signal).then(
      (outcome) => {
        if (!outcome) return this.#released([this.#release(row.id, undefined)], false);
        this.#outcomes.push(outcome);
        this.#scheduleRecord();
      },
      (cause: unknown) => {
        // Nothing recorded: the row is still pending and due, and goes out at a later refill.
        this.#log.log({ level: 'error', ns: 'outbox', msg: 'outbox attempt failed', id: row.eventId, error: (cause as Error).message });
        this.#released([this.#release(row.id, undefined)], false);
      },
    );
  }

  /**
   * Records outcomes after the I/O callbacks of this turn (the answers that arrived together form one
   * group), and keeps recording while more settle during a transaction.
   */
  #scheduleRecord(): void {
    if (this.#recordScheduled || this.#recording) return;
    this.#recordScheduled = true;
    setImmediate(() => {
      this.#recordScheduled = false;
      this.#recording = this.#record().finally(() => {
        this.#recording = undefined;
        if (this.#outcomes.length > 0) this.#scheduleRecord();
      });
    });
  }

  async #record(): Promise<void> {
    while (this.#outcomes.length > 0) {
      const group = this.#outcomes.splice(0, Math.max(1, this.#o.recordBatch ?? 512));
      try {
        await this.#o.storage.outbox.settle(group.map((g) => g.settlement));
      } catch (cause) {
        // Nothing of the group was written: its rows are still pending and due, and go out again.
        this.#log.log({ level: 'error', ns: 'outbox', msg: 'could not record outbox outcomes', rows: group.length, error: (cause as Error).message });
        this.#released(
          group.map((g) => this.#release(g.settlement.id, undefined)),
          false,
        );
        continue;
      }
      this.#stats.groups++;
      this.#stats.recorded += group.length;
      for (const { report } of group) {
        this.#logReport(report);
        this.#o.onReport?.(report);
      }
      this.#released(group.map(({ report }) => this.#release(report.outboxId, report)));
    }
  }

  #logReport(report: OutboxReport): void {
    if (report.type === 'delivered') this.#log.log({ level: 'info', ns: 'outbox', msg: 'delivered', id: report.eventId, kind: report.kind, accepted: report.accepted });
    else if (report.type === 'failed') this.#log.log({ level: 'warn', ns: 'outbox', msg: 'delivery failed', id: report.eventId, kind: report.kind, reason: report.reason });
    else this.#log.log({ level: 'debug', ns: 'outbox', msg: 'will retry', id: report.eventId, results: report.results, nextAttemptAt: report.nextAttemptAt });
  }

  /** The row leaves the window; returns who waits for its report (told by `#released`). */
  #release(id: number, report: OutboxReport | undefined): () => void {
    const lane = this.#inFlight.get(id);
    if (lane === undefined) return () => {};
    this.#inFlight.delete(id);
    this.#lanes[lane]--;
    if (lane === 'conversation') this.#hold.conversation(this.#clock.now());
    const waiters = this.#waiters.get(id) ?? [];
    return () => {
      for (const w of waiters) w(report);
    };
  }

  /**
   * After rows left the window (one group at a time): their waiters hear, and the window refills once.
   * Not after a failure (nothing recorded): those rows are still due, and the loop's next round (or
   * the caller's next runOnce) sends them again, rather than at once and again while storage is down.
   */
  #released(tell: Array<() => void>, refill = true): void {
    for (const t of tell) t();
    this.#progress.abort(CANCELLED);
    this.#progress = new AbortController();
    if (refill && (this.#loop !== undefined || this.#pushers > 0)) void this.#fill();
  }

  /** Resolves when rows next leave the window, or after `ms`. */
  async #nextProgress(ms: number): Promise<void> {
    await sleepLinked(this.#clock, Math.max(0, ms), this.#progress.signal).catch(() => {});
  }
}
