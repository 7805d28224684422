/**
 * The inbox subscription: per relay, one REQ for every hosted agent (`#p` batched to the relay's
 * NIP-11 limits; more REQs only when the limits force it), kinds 1059, 4 and 1 (the connection sends
 * the restricted kinds 1059 and 4 in a wire REQ of their own, after AUTH where the relay wants it). A
 * relay that accepts fewer AUTH keys per connection than are hosted (strfry: one) gets a lane per
 * key it would not take: a connection of its own, authenticated as that key, with a REQ for that
 * key's kinds 1059 and 4. On every (re)send it
 * resumes from the relay's saved cursor, reaching two days further back for gift wraps (whose
 * `created_at` is randomized up to two days into the past). When a relay caps a filter's stored
 * events at its limit, the catch-up pages further back (catch-up.ts) while live delivery goes on.
 * Events of a relay are handled in order; the cursor moves only once every REQ of the relay is
 * caught up and only past events the receiver has settled, so a crash or a failed sink replays
 * them, and the processed table makes the replay a no-op.
 */
import type { NostrEvent } from '../protocol/event.js';
import type { Filter } from '../protocol/filter.js';
import { Kind } from '../protocol/kinds.js';
import type { RelayLimitation } from '../protocol/nip11.js';
import { MAX_BACKDATE_SECONDS } from '../protocol/nip59.js';
import { rejectionPrefix } from '../protocol/schema.js';
import type { Signer } from '../signer/types.js';
import type { AgentStorage } from '../storage/types.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { backoffDelay } from './backoff.js';
import { CatchUp } from './catch-up.js';
import type { OwnEchoes } from './own-echoes.js';
import { Receiver } from './receiver.js';
import type { RelayConnection, SubscriptionHandle } from './relay-connection.js';
import type { WsRelayPool } from './relay-pool.js';
import type { MessageSink, ReceiverCounters } from './types.js';

/** Options; the defaults are in brackets. */
export interface InboxOptions {
  pool: WsRelayPool;
  /** Cursors and processed marks (the messaging part of the storage seam). */
  storage: Pick<AgentStorage, 'cursors' | 'processed'>;
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
  /** NIP-11 limits per relay [the connection's NIP-11 document, fetched over HTTP, 3 s timeout]. */
  relayLimits?: (url: string) => Promise<RelayLimitation | undefined>;
  /** The `limit` asked per filter when a relay publishes no `max_limit` [500]. */
  pageLimit?: number;
  /** The outbox publisher's notes of the gift wraps sent to the agents themselves (not opened again). */
  ownEchoes?: OwnEchoes;
}

/** One inbox REQ on one relay: a batch of hosted keys on the shared connection, or one key on its lane. */
interface Slot {
  conn: RelayConnection;
  pubkeys: string[];
  /** A lane asks only for the kinds that need its key's AUTH (mentions come through the shared connection). */
  lane: boolean;
  handle?: SubscriptionHandle;
  /** Caught up since its latest send (or refused for good: nothing more will come from it). */
  live: boolean;
  /** The filters last computed, and the catch-up of its latest send. */
  sent: Filter[];
  catchUp?: CatchUp;
  /** Refusals in a row, for the backoff of re-sending a refused REQ. */
  refusals: number;
}

interface RelaySubs {
  slots: Map<string, Slot>;
  chain: Promise<void>;
  dirty: boolean;
  limits: RelayLimitation;
  unwatch: () => void;
  /** The stored cursor (unix s), read when the relay starts and kept in step with every checkpoint (this class is its only writer). */
  cursor?: number;
  /**
   * The latest checkpoint (unix s) that covered the hosted agents, and those it has not covered yet
   * (hosted since): an agent's catch-up cursor on this relay is `coveredAt` unless it is in `uncovered`.
   * Every checkpoint covers every hosted agent (each is in the relay's REQs from the moment it is
   * added), so one time per relay and a set that is empty once caught up take the place of a time
   * per agent and relay (a Map entry each: ~0.45 MiB per relay with 10,000 agents).
   */
  coveredAt?: number;
  uncovered: Set<string>;
}

/** Refusals that will not change by asking again on this connection. */
const FINAL_REFUSALS = new Set(['auth-required', 'restricted', 'blocked', 'invalid']);

/** Keeps every hosted agent subscribed on every listening relay, and feeds the receiver. */
export class InboxSubscriptions {
  readonly receiver: Receiver;
  readonly #o: InboxOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #agents = new Map<string, Signer>();
  /** Reach at least this far back (unix s) for these agents until every relay has caught up with them. */
  readonly #floors = new Map<string, number>();
  readonly #relays = new Map<string, RelaySubs>();
  #timer: NodeJS.Timeout | undefined;
  #lastPrune = 0;
  #stopped = false;
  readonly #stopping = new AbortController();

  constructor(options: InboxOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? silentLogger;
    this.receiver = new Receiver({
      storage: options.storage,
      keys: (pubkey) => this.#agents.get(pubkey),
      hosted: () => this.#agents.keys(),
      sink: options.sink,
      logger: this.#log,
      clock: this.#clock,
      ...(options.ownEchoes ? { ownEchoes: options.ownEchoes } : {}),
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

  /**
   * Hosts one more agent: its key answers AUTH and its pubkey joins every relay's `#p`, others untouched.
   * `since` (unix s): read the agent's inbox from there at least (its catch-up cursor from a former
   * holder, many daemons on one database), even when the relay's own cursor is later.
   */
  addAgent(signer: Signer, options: { since?: number } = {}): void {
    this.addAgents([{ signer, ...options }]);
  }

  /** Hosts many agents at once: one rebuild of each relay's REQs and one AUTH round for all of them. */
  addAgents(agents: ReadonlyArray<{ signer: Signer; since?: number }>): void {
    for (const { signer, since } of agents) {
      const pubkey = signer.getPublicKey();
      if (since !== undefined) this.#floors.set(pubkey, since);
      if (!this.#agents.has(pubkey)) for (const subs of this.#relays.values()) subs.uncovered.add(pubkey);
      this.#agents.set(pubkey, signer);
    }
    this.#o.pool.addAuthSigners(agents.map((a) => a.signer));
    if (agents.length > 0) this.#rebuildAll();
  }

  /** Stops hosting an agent; the others stay subscribed. */
  removeAgent(pubkey: string): void {
    this.#floors.delete(pubkey);
    for (const subs of this.#relays.values()) subs.uncovered.delete(pubkey);
    if (!this.#agents.delete(pubkey)) return;
    this.#o.pool.removeAuthSigner(pubkey);
    this.#rebuildAll();
  }

  /**
   * The agent's catch-up cursor (unix s): every inbox event of it created before this is settled, on
   * every relay. Undefined until each relay has caught up once with its key in the REQs.
   */
  cursorOf(pubkey: string): number | undefined {
    if (!this.#agents.has(pubkey)) return undefined;
    let min: number | undefined;
    for (const url of this.#o.relays) {
      const subs = this.#relays.get(this.#o.pool.connection(url)?.url ?? url);
      const at = subs && !subs.uncovered.has(pubkey) ? subs.coveredAt : undefined;
      if (at === undefined) return undefined;
      min = min === undefined ? at : Math.min(min, at);
    }
    return min;
  }

  /** Hosted agent pubkeys. */
  agents(): string[] {
    return [...this.#agents.keys()];
  }

  /** Closes every subscription (not the pool) after in-flight events settle. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping.abort();
    if (this.#timer) clearInterval(this.#timer);
    for (const subs of this.#relays.values()) {
      subs.unwatch();
      for (const slot of subs.slots.values()) this.#closeSlot(slot);
    }
    await Promise.all([...this.#relays.values()].map((s) => s.chain));
  }

  async #startRelay(url: string): Promise<void> {
    const conn = this.#o.pool.addRelay(url);
    const info = this.#o.relayLimits ? await this.#o.relayLimits(conn.url) : (await conn.info())?.limitation;
    const cursor = await this.#o.storage.cursors.get(conn.url);
    if (this.#stopped) return;
    // What the relay accepts of our AUTH keys may change after each round: lanes follow it.
    const unwatch = conn.onAuthChange(() => this.#rebuild(conn.url));
    this.#relays.set(conn.url, { slots: new Map(), chain: Promise.resolve(), dirty: false, limits: info ?? {}, unwatch, uncovered: new Set(this.#agents.keys()), ...(cursor !== undefined ? { cursor } : {}) });
    this.#rebuild(conn.url);
  }

  #rebuildAll(): void {
    for (const url of this.#relays.keys()) this.#rebuild(url);
  }

  /** (Re)creates the REQs of one relay so they cover exactly the hosted agents (and give lanes to keys that need one). */
  #rebuild(url: string): void {
    const subs = this.#relays.get(url);
    const conn = this.#o.pool.connection(url);
    if (!subs || !conn || this.#stopped) return;
    const wanted = new Map<string, { conn: RelayConnection; pubkeys: string[]; lane: boolean }>();
    this.#groups(subs.limits).forEach((pubkeys, i) => wanted.set(`inbox-${i}`, { conn, pubkeys, lane: false }));
    for (const [pubkey, signer] of this.#agents) {
      if (!conn.sharesAuth(pubkey)) wanted.set(`inbox-lane-${pubkey.slice(0, 16)}`, { conn: this.#o.pool.lane(url, signer), pubkeys: [pubkey], lane: true });
    }
    for (const [id, slot] of subs.slots) {
      if (wanted.has(id)) continue;
      subs.slots.delete(id);
      this.#closeSlot(slot);
      if (slot.lane) void this.#o.pool.closeLane(url, slot.pubkeys[0]!);
    }
    for (const [id, want] of wanted) {
      const existing = subs.slots.get(id);
      if (existing) {
        if (existing.pubkeys.join() === want.pubkeys.join()) continue;
        existing.pubkeys = want.pubkeys;
        existing.handle?.refresh();
        continue;
      }
      this.#openSlot(url, subs, id, want);
    }
    // A lane that went away may have been the last REQ the cursor waited for.
    this.#checkpoint(url, subs);
  }

  #openSlot(url: string, subs: RelaySubs, id: string, want: { conn: RelayConnection; pubkeys: string[]; lane: boolean }): void {
    const slot: Slot = { ...want, live: false, sent: [], refusals: 0 };
    subs.slots.set(id, slot);
    slot.handle = want.conn.subscribe(id, () => (slot.sent = this.#filters(url, slot.pubkeys, subs.limits, slot.lane)), {
      onEvent: (event) => {
        slot.catchUp?.observe(event);
        this.#enqueue(url, subs, event);
      },
      onEose: () => {
        slot.refusals = 0;
        this.#catchUp(url, subs, slot);
      },
      onClosed: (reason) => this.#refused(url, subs, slot, reason),
      // An agent's own copy (noted before it was published) is settled unopened by the receiver: its
      // content is checked against its id, which is the one this daemon signed, so the Schnorr check
      // (the costliest part of taking an event in) would tell nothing. One verification less per DM answered.
      ...(this.#o.ownEchoes ? { signatureNeeded: (event: NostrEvent) => !this.#o.ownEchoes!.has(event.id) } : {}),
      onSent: () => {
        slot.live = false;
        subs.dirty = false;
        slot.catchUp?.cancel();
        slot.catchUp = new CatchUp({
          conn: slot.conn,
          url,
          pageId: `${id}-page`,
          filters: slot.sent,
          onEvent: (event) => this.#enqueue(url, subs, event),
          clock: this.#clock,
          logger: this.#log,
        });
      },
    });
  }

  #closeSlot(slot: Slot): void {
    slot.catchUp?.cancel();
    slot.handle?.close();
  }

  /**
   * The relay closed an inbox REQ. A refusal that asking again will not change (AUTH could not help, the
   * key is not allowed) is final: the REQ stops holding the cursor back, with a warning. Anything else
   * (`rate-limited:`, `error:`) is asked again with backoff while the cursor waits.
   */
  #refused(url: string, subs: RelaySubs, slot: Slot, reason: string): void {
    if (FINAL_REFUSALS.has(rejectionPrefix(reason) ?? '')) {
      this.#log.log({ level: 'warn', ns: 'inbox', msg: 'relay refuses an inbox subscription; its messages cannot be read there', relay: url, agents: slot.pubkeys.length, reason: reason.slice(0, 200) });
      slot.catchUp?.cancel();
      slot.live = true;
      this.#checkpoint(url, subs);
      return;
    }
    const delay = backoffDelay(slot.refusals++, { initialMs: 2000, maxMs: 300_000 });
    this.#log.log({ level: 'debug', ns: 'inbox', msg: 'inbox subscription closed by relay; asking again', relay: url, reason: reason.slice(0, 200), retryInMs: delay });
    const handle = slot.handle;
    this.#clock.sleep(delay, { signal: this.#stopping.signal }).then(() => {
      if (!this.#stopped && slot.handle === handle) handle?.refresh();
    }, () => {});
  }

  /** Splits hosted pubkeys into REQ-sized groups: `batchSize` per `#p`, three filters per batch, `max_filters` per REQ. */
  #groups(limits: RelayLimitation): string[][] {
    const all = [...this.#agents.keys()];
    if (all.length === 0) return [];
    const batch = this.#o.batchSize ?? 256;
    const perReq = Math.max(1, Math.floor((limits.max_filters ?? 10) / 3)) * batch;
    const out: string[][] = [];
    for (let i = 0; i < all.length; i += perReq) out.push(all.slice(i, i + perReq));
    return out;
  }

  /** Per batch of keys: gift wraps, kind 4 and kind 1 each in a filter of its own (lanes: the first two only). */
  #filters(url: string, pubkeys: string[], limits: RelayLimitation, lane = false): Filter[] {
    if (pubkeys.length === 0) return [];
    const now = Math.floor(this.#clock.now() / 1000);
    const overlap = this.#o.overlapSeconds ?? 600;
    const relayCursor = this.#relays.get(url)?.cursor ?? now;
    const floors = pubkeys.map((p) => this.#floors.get(p)).filter((f): f is number => f !== undefined);
    const cursor = Math.min(relayCursor, ...floors);
    const batch = this.#o.batchSize ?? 256;
    // Always an explicit limit: an answer that reaches it is capped, and the catch-up pages on.
    const limit = Math.max(1, limits.max_limit ?? this.#o.pageLimit ?? 500);
    const out: Filter[] = [];
    for (let i = 0; i < pubkeys.length; i += batch) {
      const p = pubkeys.slice(i, i + batch);
      out.push({ kinds: [Kind.GiftWrap], '#p': p, since: Math.max(0, cursor - MAX_BACKDATE_SECONDS - overlap), limit });
      out.push({ kinds: [Kind.EncryptedDirectMessage], '#p': p, since: Math.max(0, cursor - overlap), limit });
      if (!lane) out.push({ kinds: [Kind.TextNote], '#p': p, since: Math.max(0, cursor - overlap), limit });
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
  #catchUp(url: string, subs: RelaySubs, slot: Slot): void {
    const catchUp = slot.catchUp;
    if (!catchUp) return;
    catchUp.run().then(
      (complete) => {
        if (!complete || slot.catchUp !== catchUp || this.#stopped) return;
        slot.live = true;
        this.#checkpoint(url, subs);
      },
      (error: unknown) => this.#log.log({ level: 'warn', ns: 'inbox', msg: 'catch-up failed; cursor kept', relay: url, error: (error as Error).message }),
    );
  }

  /** Saves "caught up to now" once every REQ of the relay is live and every event received before it is settled (and none failed). */
  #checkpoint(url: string, subs: RelaySubs): void {
    if (subs.slots.size === 0 || ![...subs.slots.values()].every((s) => s.live)) return;
    const at = Math.floor(this.#clock.now() / 1000);
    // Every agent hosted now is in the REQs: those not covered before are from this checkpoint on.
    const covering = [...subs.uncovered];
    subs.chain = subs.chain.then(async () => {
      if (subs.dirty || this.#stopped) return;
      for (const pubkey of covering) subs.uncovered.delete(pubkey);
      // A set that held thousands keeps its table: a fresh one once all are covered.
      if (subs.uncovered.size === 0) subs.uncovered = new Set();
      subs.coveredAt = Math.max(subs.coveredAt ?? 0, at);
      for (const pubkey of this.#floors.keys()) if (this.cursorOf(pubkey) !== undefined) this.#floors.delete(pubkey);
      try {
        await this.#o.storage.cursors.set(url, at);
        subs.cursor = Math.max(subs.cursor ?? 0, at);
      } catch (error) {
        this.#log.log({ level: 'warn', ns: 'inbox', msg: 'could not save the cursor; kept the old one', relay: url, error: (error as Error).message });
      }
    });
  }

  #tick(): void {
    for (const [url, subs] of this.#relays) {
      if (this.#o.pool.connection(url)?.status().state === 'connected') this.#checkpoint(url, subs);
    }
    const now = this.#clock.now();
    if (now - this.#lastPrune > 60 * 60 * 1000) {
      this.#lastPrune = now;
      this.#o.storage.processed.prune(now - (this.#o.processedRetentionMs ?? 7 * 24 * 60 * 60 * 1000)).then(
        (removed) => {
          if (removed > 0) this.#log.log({ level: 'debug', ns: 'inbox', msg: 'pruned processed events', removed });
        },
        (error: unknown) => this.#log.log({ level: 'warn', ns: 'inbox', msg: 'pruning processed events failed', error: (error as Error).message }),
      );
    }
  }
}
