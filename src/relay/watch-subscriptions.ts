/**
 * Watched filters: per relay, the watches of every hosted agent share as few REQs as the relay's
 * NIP-11 `max_filters` allows (one filter per watch), like the inbox's batched `#p` REQs. Each watch
 * resumes from its own cursor on that relay (minus an overlap for clock skew), so events published
 * while the daemon was down arrive when it comes back; capped answers are paged back (catch-up.ts).
 * Events of a relay are handed to the sink in order, one call per matching watch; a watch's cursor
 * moves only once the relay is caught up and every event before the checkpoint was settled.
 */
import type { NostrEvent } from '../protocol/event.js';
import { matchFilter, type Filter } from '../protocol/filter.js';
import type { RelayLimitation } from '../protocol/nip11.js';
import type { CursorStore } from '../storage/types.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { CatchUp } from './catch-up.js';
import type { RelayConnection, SubscriptionHandle } from './relay-connection.js';
import { fetchRelayInfo } from './relay-info.js';

/** One watch as the subscriptions see it. `key` is unique per daemon (`<agent pubkey>:<watch id>`). */
export interface WatchSpec {
  key: string;
  agentPubkey: string;
  id: string;
  filter: Filter;
  relays: string[];
  /** Unix seconds the cursor starts from when the watch has none yet. */
  startAt: number;
}

/** Records a matching event for a watch; resolves once it is settled (queued, or refused on purpose). */
export type WatchSink = (watch: WatchSpec, event: NostrEvent) => Promise<void>;

/** Options; defaults in brackets. */
export interface WatchSubscriptionsOptions {
  pool: { addRelay(url: string): Pick<RelayConnection, 'url' | 'subscribe' | 'status'> };
  cursors: Pick<CursorStore, 'get' | 'set'>;
  sink: WatchSink;
  clock?: Clock;
  logger?: Logger;
  /** Look-back past a watch's cursor for clock skew (s) [600]. */
  overlapSeconds?: number;
  /** How often live cursors are saved (ms) [30 000]. */
  checkpointIntervalMs?: number;
  /** NIP-11 limits per relay [fetched over HTTP]. */
  relayLimits?: (url: string) => Promise<RelayLimitation | undefined>;
  /** `limit` per filter when the relay publishes no `max_limit` [500]. */
  pageLimit?: number;
}

interface RelayWatches {
  url: string;
  conn: Pick<RelayConnection, 'url' | 'subscribe' | 'status'>;
  limits: RelayLimitation;
  groups: WatchSpec[][];
  handles: SubscriptionHandle[];
  catchUps: Array<CatchUp | undefined>;
  live: boolean[];
  chain: Promise<void>;
  dirty: boolean;
  /** Stored cursors by key (unix s), read before a watch is first subscribed here and kept in step with each checkpoint. */
  cursors: Map<string, number | undefined>;
}

/** The cursor key of a watch on a relay. */
export function watchCursorKey(watch: Pick<WatchSpec, 'key'>, url: string): string {
  return `watch:${watch.key}@${url}`;
}

/** Keeps every watch subscribed on its relays and feeds matching events to the sink. */
export class WatchSubscriptions {
  readonly #o: WatchSubscriptionsOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #relays = new Map<string, RelayWatches>();
  #watches: WatchSpec[] = [];
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: WatchSubscriptionsOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? silentLogger;
  }

  /** Starts the checkpoint timer; `set` subscribes. */
  start(): void {
    this.#timer = setInterval(() => this.#checkpointAll(), this.#o.checkpointIntervalMs ?? 30_000);
    this.#timer.unref();
  }

  /** The watches currently subscribed. */
  watches(): WatchSpec[] {
    return [...this.#watches];
  }

  /** Replaces the set of watches; relays gain, change or drop their REQs to match. */
  async set(watches: WatchSpec[]): Promise<void> {
    if (this.#stopped) return;
    this.#watches = watches;
    const urls = new Set(watches.flatMap((w) => w.relays));
    for (const [url, rw] of this.#relays) if (!urls.has(url)) this.#rebuild(rw, []);
    await Promise.all(
      [...urls].map(async (url) => {
        const rw = this.#relays.get(url) ?? (await this.#open(url));
        if (!rw) return;
        const mine = this.#watches.filter((w) => w.relays.includes(url));
        for (const w of mine) {
          const key = watchCursorKey(w, rw.url);
          if (!rw.cursors.has(key)) rw.cursors.set(key, await this.#o.cursors.get(key));
        }
        this.#rebuild(rw, mine);
      }),
    );
  }

  /** Closes every watch subscription (not the pool) after in-flight events settle. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const rw of this.#relays.values()) {
      for (const c of rw.catchUps) c?.cancel();
      for (const h of rw.handles) h.close();
    }
    await Promise.all([...this.#relays.values()].map((rw) => rw.chain));
  }

  async #open(url: string): Promise<RelayWatches | undefined> {
    let conn: RelayWatches['conn'];
    try {
      conn = this.#o.pool.addRelay(url);
    } catch (error) {
      this.#log.log({ level: 'warn', ns: 'watch', msg: 'watch relay refused', relay: url, error: (error as Error).message });
      return undefined;
    }
    const existing = this.#relays.get(conn.url);
    if (existing) return existing;
    const limits = (this.#o.relayLimits ? await this.#o.relayLimits(conn.url) : (await fetchRelayInfo(conn.url))?.limitation) ?? {};
    const again = this.#relays.get(conn.url);
    if (again) return again;
    const rw: RelayWatches = { url: conn.url, conn, limits, groups: [], handles: [], catchUps: [], live: [], chain: Promise.resolve(), dirty: false, cursors: new Map() };
    this.#relays.set(conn.url, rw);
    return rw;
  }

  /** Regroups a relay's watches into REQs of at most `max_filters` filters and (re)sends what changed. */
  #rebuild(rw: RelayWatches, watches: WatchSpec[]): void {
    if (this.#stopped) return;
    const perReq = Math.max(1, rw.limits.max_filters ?? 10);
    const groups: WatchSpec[][] = [];
    for (let i = 0; i < watches.length; i += perReq) groups.push(watches.slice(i, i + perReq));
    while (rw.handles.length > groups.length) {
      rw.handles.pop()?.close();
      rw.catchUps.pop()?.cancel();
      rw.live.pop();
      rw.groups.pop();
    }
    groups.forEach((group, i) => {
      const same = rw.groups[i]?.map((w) => w.key).join() === group.map((w) => w.key).join();
      rw.groups[i] = group;
      const existing = rw.handles[i];
      if (existing) {
        if (!same) existing.refresh();
        return;
      }
      rw.live[i] = false;
      let sent: Filter[] = [];
      rw.handles[i] = rw.conn.subscribe(`watch-${i}`, () => (sent = this.#filters(rw, rw.groups[i] ?? [])), {
        onEvent: (event) => {
          rw.catchUps[i]?.observe(event);
          this.#enqueue(rw, i, event);
        },
        onEose: () => this.#catchUp(rw, i),
        onSent: () => {
          rw.live[i] = false;
          rw.dirty = false;
          rw.catchUps[i]?.cancel();
          rw.catchUps[i] = new CatchUp({ conn: rw.conn, url: rw.url, pageId: `watch-${i}-page`, filters: sent, onEvent: (event) => this.#enqueue(rw, i, event), clock: this.#clock, logger: this.#log });
        },
      });
    });
  }

  /** One filter per watch: its own, from its cursor on this relay (less the overlap), with the page limit. */
  #filters(rw: RelayWatches, group: WatchSpec[]): Filter[] {
    const overlap = this.#o.overlapSeconds ?? 600;
    const limit = Math.max(1, rw.limits.max_limit ?? this.#o.pageLimit ?? 500);
    return group.map((w) => {
      const cursor = rw.cursors.get(watchCursorKey(w, rw.url)) ?? w.startAt;
      return { ...w.filter, since: Math.max(0, cursor - overlap), limit };
    });
  }

  #enqueue(rw: RelayWatches, i: number, event: NostrEvent): void {
    const group = rw.groups[i] ?? [];
    rw.chain = rw.chain.then(async () => {
      for (const watch of group) {
        if (!matchFilter(watch.filter, event)) continue;
        try {
          await this.#o.sink(watch, event);
        } catch (error) {
          rw.dirty = true;
          this.#log.log({ level: 'warn', ns: 'watch', msg: 'watched event not recorded; cursor kept', agent: watch.agentPubkey, watch: watch.id, relay: rw.url, error: (error as Error).message });
        }
      }
    });
  }

  #catchUp(rw: RelayWatches, i: number): void {
    const catchUp = rw.catchUps[i];
    if (!catchUp) return;
    catchUp.run().then(
      (complete) => {
        if (!complete || rw.catchUps[i] !== catchUp || this.#stopped) return;
        rw.live[i] = true;
        this.#checkpoint(rw);
      },
      (error: unknown) => this.#log.log({ level: 'warn', ns: 'watch', msg: 'catch-up failed; cursor kept', relay: rw.url, error: (error as Error).message }),
    );
  }

  /** Saves "caught up to now" for the relay's watches once every event before it is settled. */
  #checkpoint(rw: RelayWatches): void {
    if (rw.groups.length === 0 || !rw.live.every(Boolean)) return;
    const at = Math.floor(this.#clock.now() / 1000);
    const watches = rw.groups.flat();
    rw.chain = rw.chain.then(async () => {
      if (rw.dirty || this.#stopped) return;
      try {
        for (const w of watches) {
          const key = watchCursorKey(w, rw.url);
          await this.#o.cursors.set(key, at);
          rw.cursors.set(key, Math.max(rw.cursors.get(key) ?? 0, at));
        }
      } catch (error) {
        this.#log.log({ level: 'warn', ns: 'watch', msg: 'could not save watch cursors; kept the old ones', relay: rw.url, error: (error as Error).message });
      }
    });
  }

  #checkpointAll(): void {
    for (const rw of this.#relays.values()) if (rw.conn.status().state === 'connected') this.#checkpoint(rw);
  }
}
