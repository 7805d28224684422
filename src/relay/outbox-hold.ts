/**
 * When the outbox lets background rows out while a conversation is going on (see BACKGROUND_HOLD).
 * Only the state and the rule; the publisher asks it at each refill, with the time.
 */

/**
 * A tick's background rows (the agent's own copy of its reply, the trajectory's tick and session
 * events) are committed with the reply and used to be sent as soon as the reply's OK was recorded:
 * their signature checks at the relay, and the work around them, then competed for the cores with
 * the peer's next message (on a 2-core machine ~1.5–2 ms of a 13 ms DM round trip; docs/performance.md
 * "Sixth round"). So they wait until the conversation lane has been quiet (no conversation row sent,
 * in flight or answered) for `quietMs`. Under a steady stream of DMs the lane is never quiet: once
 * the oldest held row has been due for `maxMs`, every background row due by then goes (one flush
 * per `maxMs`, not a trickle that would put each tick's rows back beside the next DM), so none
 * waits much longer than `maxMs` (until the next refill after it: the next conversation answer, or
 * `quietMs` after it). Such a flush (a steady stream: no quiet yet) keeps at most `flushWindow` rows
 * in flight, not the background window's 64: a DM arriving meanwhile then waits at the relay behind
 * a few signature checks, not a batch of 64 (a flush of ~300 rows at 64 in flight put the p99 of a
 * 400-DM round trip at 3.7 × its p50). Only the send time moves: the rows are committed with the
 * tick either way.
 *
 * A daemon whose ticks queue background rows faster than 8 in flight carry them (many agents
 * answering at once: ~5 rows a tick, a relay round trip of 50–100 ms under that load) would fall
 * behind for good, each flush leaving more rows than the last. So a flush's window is paced: when a
 * refill finds a row that has waited twice `maxMs` (the flushes are not keeping up), it doubles, at
 * most once per `quietMs` and up to the background window; once no row has waited `maxMs`, it is
 * back to `flushWindow`. Held rows then wait a bounded time under any load the daemon can carry.
 */
export const BACKGROUND_HOLD = { quietMs: 300, maxMs: 2000, flushWindow: 8 } as const;

/** The hold's durations and flush window (defaults: BACKGROUND_HOLD; `quietMs: 0, maxMs: 0`: no hold). */
export interface BackgroundHoldOptions {
  quietMs?: number;
  maxMs?: number;
  flushWindow?: number;
}

/** The hold's state: when the conversation lane last moved, and the last flush (ms, the publisher's clock). */
export class BackgroundHold {
  readonly quietMs: number;
  readonly maxMs: number;
  readonly flushWindow: number;
  #conversationAt = Number.NEGATIVE_INFINITY;
  #flushedThrough = Number.NEGATIVE_INFINITY;
  /** A flush's rows in flight at most now (`flushWindow`, doubled while flushes fall behind; see BACKGROUND_HOLD). */
  #flushRoom: number;
  #grownAt = Number.NEGATIVE_INFINITY;
  /** Flushes of rows held `maxMs` (stats). */
  flushes = 0;

  constructor(options: BackgroundHoldOptions = {}) {
    this.quietMs = Math.max(0, options.quietMs ?? BACKGROUND_HOLD.quietMs);
    this.maxMs = Math.max(0, options.maxMs ?? BACKGROUND_HOLD.maxMs);
    this.flushWindow = Math.max(1, options.flushWindow ?? BACKGROUND_HOLD.flushWindow);
    this.#flushRoom = this.flushWindow;
  }

  /** A flush's rows in flight at most now. */
  flushRoom(): number {
    return this.#flushRoom;
  }

  /**
   * Paces the flushes by the oldest row a held refill found (`oldestDue`, its due time; undefined:
   * none): one held `2 × maxMs` doubles the flush window (at most once per `quietMs`, up to `max`),
   * none held `maxMs` takes it back to `flushWindow`.
   */
  pace(now: number, oldestDue: number | undefined, max: number): void {
    if (oldestDue === undefined || oldestDue > now - this.maxMs) this.#flushRoom = this.flushWindow;
    else if (oldestDue <= now - 2 * this.maxMs && now - this.#grownAt >= this.quietMs) {
      this.#flushRoom = Math.max(this.flushWindow, Math.min(max, this.#flushRoom * 2));
      this.#grownAt = now;
    }
  }

  /** A conversation row was sent, or left the window, at `now`. */
  conversation(now: number): void {
    this.#conversationAt = now;
  }

  /** When the lane will have been quiet for `quietMs` (what a held refill waits for). */
  quietAt(): number {
    return this.#conversationAt + this.quietMs;
  }

  /** Whether the lane has been quiet for `quietMs` at `now` (then nothing is held). */
  quiet(now: number, conversationInFlight: boolean): boolean {
    return !conversationInFlight && now - this.#conversationAt >= this.quietMs;
  }

  /** While held: background rows due at or before the returned time may go (the last flush's, and those due `maxMs` ago already). */
  cutoff(now: number): number {
    return Math.max(this.#flushedThrough, now - this.maxMs);
  }

  /**
   * Whether the oldest row a held refill found (`oldestDue`, its due time) has waited `maxMs`: then
   * everything due at `now` goes (recorded as a flush).
   */
  flush(now: number, oldestDue: number | undefined): boolean {
    if (oldestDue === undefined || oldestDue > now - this.maxMs) return false;
    this.#flushedThrough = now;
    this.flushes++;
    return true;
  }
}
