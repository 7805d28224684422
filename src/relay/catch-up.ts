/**
 * Paging past a relay's result cap. A relay answers each filter of a REQ with at most `limit` (its
 * NIP-11 `max_limit`) stored events, newest first, so a backlog bigger than that is cut off at the
 * old end. After the REQ's EOSE, every filter whose stored events reached the limit is asked again,
 * page by page, with `until` = the oldest `created_at` seen and the same `since`, until a page comes
 * back short. `until` is inclusive: the boundary second is fetched again (events sharing it are never
 * skipped) and the receiver's processed table drops the repeats. Only then is the relay caught up.
 */
import type { NostrEvent } from '../protocol/event.js';
import { matchFilter, type Filter } from '../protocol/filter.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { backoffDelay } from './backoff.js';
import type { SubscriptionHandle, SubscriptionHandlers } from './relay-connection.js';

/** What a catch-up needs of a relay connection. */
export interface PageSubscriber {
  subscribe(id: string, filters: () => Filter[], handlers: SubscriptionHandlers): SubscriptionHandle;
}

/** Options of one catch-up: the filters of the REQ just sent, and where page events go. */
export interface CatchUpOptions {
  conn: PageSubscriber;
  url: string;
  /** Subscription id of the pages (one page at a time). */
  pageId: string;
  /** The filters of the REQ, each with its `limit`. */
  filters: Filter[];
  /** Every stored event a page brings (the caller dedupes and settles it). */
  onEvent: (event: NostrEvent) => void;
  clock: Clock;
  logger: Logger;
}

/** How many stored events a filter got in one answer, and the oldest `created_at` among them. */
interface PageStats {
  count: number;
  oldest: number;
}

const emptyStats = (): PageStats => ({ count: 0, oldest: Number.POSITIVE_INFINITY });

function count(stats: PageStats, filter: Filter, event: NostrEvent): void {
  if (!matchFilter(filter, event)) return;
  stats.count++;
  if (event.created_at < stats.oldest) stats.oldest = event.created_at;
}

/** A capped answer: as many stored events as the limit asked (the relay may have more). */
function isFull(filter: Filter, stats: PageStats): boolean {
  return filter.limit !== undefined && stats.count > 0 && stats.count >= filter.limit;
}

/** One REQ's catch-up: counts its stored events before EOSE, then pages back through capped filters. */
export class CatchUp {
  readonly #o: CatchUpOptions;
  readonly #first: PageStats[];
  readonly #cancel = new AbortController();
  #started = false;

  constructor(options: CatchUpOptions) {
    this.#o = options;
    this.#first = options.filters.map(emptyStats);
  }

  /** Counts a stored event of the REQ (call it for events received before its EOSE). */
  observe(event: NostrEvent): void {
    if (this.#started) return;
    this.#o.filters.forEach((f, i) => count(this.#first[i]!, f, event));
  }

  /** Stops paging (the REQ was re-sent, replaced or closed); `run` then resolves false. */
  cancel(): void {
    this.#cancel.abort();
  }

  /**
   * After the REQ's EOSE: pages every capped filter until a page comes back short. Resolves true
   * once every filter is complete, false when cancelled first.
   */
  async run(): Promise<boolean> {
    this.#started = true;
    const signal = this.#cancel.signal;
    for (const [i, filter] of this.#o.filters.entries()) {
      let stats = this.#first[i]!;
      let until: number | undefined;
      let pages = 0;
      while (isFull(filter, stats)) {
        const next = this.#nextUntil(filter, stats, until);
        if (next === undefined) break;
        until = next;
        const page = await this.#pageWithRetry({ ...filter, until });
        if (!page) return false;
        stats = page;
        pages++;
      }
      if (pages > 0) this.#o.logger.log({ level: 'debug', ns: 'inbox', msg: 'caught up past the result cap', relay: this.#o.url, kinds: filter.kinds, limit: filter.limit, pages });
    }
    return !signal.aborted;
  }

  /** The next page's `until`: the oldest second seen (inclusive), or one before it when a whole page shared it. */
  #nextUntil(filter: Filter, stats: PageStats, until: number | undefined): number | undefined {
    let next = stats.oldest;
    if (until !== undefined && next >= until) {
      // More events in one second than the relay returns per answer: NIP-01 cannot page through them.
      this.#o.logger.log({ level: 'warn', ns: 'inbox', msg: 'more events share one second than the relay returns per REQ; some may be missed', relay: this.#o.url, second: until, limit: filter.limit });
      next = until - 1;
    }
    return next < (filter.since ?? 0) ? undefined : next;
  }

  /** One page; a page the relay refuses (CLOSED) is asked again with backoff. Undefined once cancelled. */
  async #pageWithRetry(filter: Filter): Promise<PageStats | undefined> {
    const signal = this.#cancel.signal;
    for (let attempt = 0; !signal.aborted; attempt++) {
      const page = await this.#page(filter);
      if (page === 'cancelled') return undefined;
      if (page !== 'closed') return page;
      const delay = backoffDelay(attempt, { initialMs: 1000, maxMs: 60_000 });
      try {
        await this.#o.clock.sleep(delay, { signal });
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  #page(filter: Filter): Promise<PageStats | 'closed' | 'cancelled'> {
    const signal = this.#cancel.signal;
    if (signal.aborted) return Promise.resolve('cancelled');
    return new Promise((resolve) => {
      const stats = emptyStats();
      let done = false;
      const finish = (value: PageStats | 'closed' | 'cancelled'): void => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        handle.close();
        resolve(value);
      };
      const onAbort = (): void => finish('cancelled');
      signal.addEventListener('abort', onAbort, { once: true });
      // The handlers run on later socket frames (or a later abort), never inside subscribe().
      const handle = this.#o.conn.subscribe(this.#o.pageId, () => [filter], {
        onEvent: (event) => {
          if (done) return;
          count(stats, filter, event);
          this.#o.onEvent(event);
        },
        onEose: () => finish(stats),
        onClosed: (reason) => {
          this.#o.logger.log({ level: 'debug', ns: 'inbox', msg: 'catch-up page refused; retrying', relay: this.#o.url, reason });
          finish('closed');
        },
      });
    });
  }
}
