/**
 * The inbox subscription: per relay, one REQ for every hosted agent (`#p` batched to the relay's
 * NIP-11 limits; more REQs only when the limits force it), kinds 1059, 4 and 1. On every (re)send it
 * resumes from the relay's saved cursor, reaching two days further back for gift wraps (whose
 * `created_at` is randomized up to two days into the past). When a relay caps a filter's stored
 * events at its limit, the catch-up pages further back (catch-up.ts) while live delivery goes on.
 * Events of a relay are handled in order; the cursor moves only once every REQ of the relay is
 * caught up and only past events the receiver has settled, so a crash or a failed sink replays
 * them, and the processed table makes the replay a no-op.
 */
import type { Filter } from '../protocol/filter.js';
import { Kind } from '../protocol/kinds.js';
import type { RelayLimitation } from '../protocol/nip11.js';
import { MAX_BACKDATE_SECONDS } from '../protocol/nip59.js';
import type { Signer } from '../signer/types.js';
import { getCursor, setCursor } from '../storage/sqlite/cursor-store.js';
import type { Db } from '../storage/sqlite/database.js';
import { pruneProcessed } from '../storage/sqlite/processed-store.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { CatchUp } from './catch-up.js';
import { Receiver } from './receiver.js';
import { fetchRelayInfo } from './relay-info.js';
import type { SubscriptionHandle } from './relay-connection.js';
import type { WsRelayPool } from './relay-pool.js';
import type { MessageSink, ReceiverCounters } from './types.js';

/** Options; the defaults are in brackets. */
export interface InboxOptions {
  pool: WsRelayPool;
  db: Db;
  sink: MessageSink;
  /** The relays to listen on (the agents' DM and read relays). */
  relays: string[];
  clock?: Clock;
  logger?: Logger;
  /** Pubkeys per `#p` list [256]. */
  batchSize?: number;
  /** Look-back for kinds 4 and 1 past the cursor, for clock skew (s) [600]. */
  overlapSeconds?: number;
  /** How often a live subscription's cursor is saved (ms) [30 000]. */
  checkpointIntervalMs?: number;
  /** Processed-event records older than this are pruned (ms) [7 days; must exceed 2 days + overlap]. */
  processedRetentionMs?: number;
  /** NIP-11 limits per relay [fetched over HTTP, 3 s timeout]. */
  relayLimits?: (url: string) => Promise<RelayLimitation | undefined>;
  /** The `limit` asked per filter when a relay publishes no `max_limit` [500]. */
  pageLimit?: number;
}

interface RelaySubs {
  handles: SubscriptionHandle[];
  groups: string[][];
  live: boolean[];
  /** The filters last computed for each REQ, and the catch-up of its latest send. */
  sent: Filter[][];
  catchUps: Array<CatchUp | undefined>;
  chain: Promise<void>;
  dirty: boolean;
  limits: RelayLimitation;
}

/** Keeps every hosted agent subscribed on every listening relay, and feeds the receiver. */
export class InboxSubscriptions {
  readonly receiver: Receiver;
  readonly #o: InboxOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #agents = new Map<string, Signer>();
  readonly #relays = new Map<string, RelaySubs>();
  #timer: NodeJS.Timeout | undefined;
  #lastPrune = 0;
  #stopped = false;

  constructor(options: InboxOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? silentLogger;
    this.receiver = new Receiver({
      db: options.db,
      keys: (pubkey) => this.#agents.get(pubkey),
      hosted: () => this.#agents.keys(),
      sink: options.sink,
      logger: this.#log,
      clock: this.#clock,
    });
  }

  /** Receiver counters (received, delivered, duplicates, rejected by reason). */
  get counters(): ReceiverCounters {
    return this.receiver.counters;
  }

  /** Opens the relays and subscribes; resolves once every relay's first REQ is set up. */
  async start(): Promise<void> {
    const every = this.#o.checkpointIntervalMs ?? 30_000;
    this.#timer = setInterval(() => this.#tick(), every);
    this.#timer.unref();
    await Promise.all(this.#o.relays.map((url) => this.#startRelay(url)));
  }

  /** Hosts one more agent: its key answers AUTH and its pubkey joins every relay's `#p`, others untouched. */
  addAgent(signer: Signer): void {
    this.#agents.set(signer.getPublicKey(), signer);
    this.#o.pool.addAuthSigner(signer);
    this.#rebuildAll();
  }

  /** Stops hosting an agent; the others stay subscribed. */
  removeAgent(pubkey: string): void {
    if (!this.#agents.delete(pubkey)) return;
    this.#o.pool.removeAuthSigner(pubkey);
    this.#rebuildAll();
  }

  /** Hosted agent pubkeys. */
  agents(): string[] {
    return [...this.#agents.keys()];
  }

  /** Closes every subscription (not the pool) after in-flight events settle. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const subs of this.#relays.values()) {
      for (const c of subs.catchUps) c?.cancel();
      for (const h of subs.handles) h.close();
    }
    await Promise.all([...this.#relays.values()].map((s) => s.chain));
  }

  async #startRelay(url: string): Promise<void> {
    const conn = this.#o.pool.addRelay(url);
    const info = this.#o.relayLimits ? await this.#o.relayLimits(conn.url) : (await fetchRelayInfo(conn.url))?.limitation;
    if (this.#stopped) return;
    this.#relays.set(conn.url, { handles: [], groups: [], live: [], sent: [], catchUps: [], chain: Promise.resolve(), dirty: false, limits: info ?? {} });
    this.#rebuild(conn.url);
  }

  #rebuildAll(): void {
    for (const url of this.#relays.keys()) this.#rebuild(url);
  }

  /** (Re)creates the REQs of one relay so they cover exactly the hosted agents. */
  #rebuild(url: string): void {
    const subs = this.#relays.get(url);
    const conn = this.#o.pool.connection(url);
    if (!subs || !conn || this.#stopped) return;
    const groups = this.#groups(subs.limits);
    while (subs.handles.length > groups.length) {
      subs.handles.pop()?.close();
      subs.catchUps.pop()?.cancel();
      subs.live.pop();
      subs.groups.pop();
      subs.sent.pop();
    }
    groups.forEach((pubkeys, i) => {
      const existing = subs.handles[i];
      if (existing) {
        subs.groups[i] = pubkeys;
        return existing.refresh();
      }
      subs.groups[i] = pubkeys;
      subs.live[i] = false;
      subs.handles[i] = conn.subscribe(`inbox-${i}`, () => (subs.sent[i] = this.#filters(url, subs.groups[i] ?? [], subs.limits)), {
        onEvent: (event) => {
          subs.catchUps[i]?.observe(event);
          this.#enqueue(url, subs, event);
        },
        onEose: () => this.#catchUp(url, subs, i),
        onSent: () => {
          subs.live[i] = false;
          subs.dirty = false;
          subs.catchUps[i]?.cancel();
          subs.catchUps[i] = new CatchUp({
            conn,
            url,
            pageId: `inbox-${i}-page`,
            filters: subs.sent[i] ?? [],
            onEvent: (event) => this.#enqueue(url, subs, event),
            clock: this.#clock,
            logger: this.#log,
          });
        },
      });
    });
  }

  /** Splits hosted pubkeys into REQ-sized groups: `batchSize` per `#p`, two filters per batch, `max_filters` per REQ. */
  #groups(limits: RelayLimitation): string[][] {
    const all = [...this.#agents.keys()];
    if (all.length === 0) return [];
    const batch = this.#o.batchSize ?? 256;
    const perReq = Math.max(1, Math.floor((limits.max_filters ?? 10) / 2)) * batch;
    const out: string[][] = [];
    for (let i = 0; i < all.length; i += perReq) out.push(all.slice(i, i + perReq));
    return out;
  }

  #filters(url: string, pubkeys: string[], limits: RelayLimitation): Filter[] {
    if (pubkeys.length === 0) return [];
    const now = Math.floor(this.#clock.now() / 1000);
    const overlap = this.#o.overlapSeconds ?? 600;
    const cursor = getCursor(this.#o.db, url) ?? now;
    const batch = this.#o.batchSize ?? 256;
    const out: Filter[] = [];
    for (let i = 0; i < pubkeys.length; i += batch) {
      const p = pubkeys.slice(i, i + batch);
      const wraps: Filter = { kinds: [Kind.GiftWrap], '#p': p, since: Math.max(0, cursor - MAX_BACKDATE_SECONDS - overlap) };
      const direct: Filter = { kinds: [Kind.EncryptedDirectMessage, Kind.TextNote], '#p': p, since: Math.max(0, cursor - overlap) };
      // Always an explicit limit: an answer that reaches it is capped, and the catch-up pages on.
      wraps.limit = direct.limit = Math.max(1, limits.max_limit ?? this.#o.pageLimit ?? 500);
      out.push(wraps, direct);
    }
    return out;
  }

  #enqueue(url: string, subs: RelaySubs, event: Parameters<Receiver['handle']>[0]): void {
    subs.chain = subs.chain.then(async () => {
      const settled = await this.receiver.handle(event, url);
      if (!settled) subs.dirty = true;
    });
  }

  /** After a REQ's EOSE: pages back through capped filters, then marks the REQ live and checkpoints. */
  #catchUp(url: string, subs: RelaySubs, i: number): void {
    const catchUp = subs.catchUps[i];
    if (!catchUp) return;
    catchUp.run().then(
      (complete) => {
        if (!complete || subs.catchUps[i] !== catchUp || this.#stopped) return;
        subs.live[i] = true;
        this.#checkpoint(url, subs);
      },
      (error: unknown) => this.#log.log({ level: 'warn', ns: 'inbox', msg: 'catch-up failed; cursor kept', relay: url, error: (error as Error).message }),
    );
  }

  /** Saves "caught up to now" once every event received before it is settled (and none failed). */
  #checkpoint(url: string, subs: RelaySubs): void {
    if (!subs.live.every(Boolean)) return;
    const at = Math.floor(this.#clock.now() / 1000);
    subs.chain = subs.chain.then(() => {
      if (subs.dirty || this.#stopped) return;
      setCursor(this.#o.db, url, at);
    });
  }

  #tick(): void {
    for (const [url, subs] of this.#relays) {
      if (this.#o.pool.connection(url)?.status().state === 'connected') this.#checkpoint(url, subs);
    }
    const now = this.#clock.now();
    if (now - this.#lastPrune > 60 * 60 * 1000) {
      this.#lastPrune = now;
      const removed = pruneProcessed(this.#o.db, now - (this.#o.processedRetentionMs ?? 7 * 24 * 60 * 60 * 1000));
      if (removed > 0) this.#log.log({ level: 'debug', ns: 'inbox', msg: 'pruned processed events', removed });
    }
  }
}
