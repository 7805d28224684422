/**
 * Many relays behind the RelayPool seam: subscriptions across relays deduplicated by event id with
 * one EOSE after all of them, and publishes that return each relay's real OK answer.
 */
import type { NostrEvent } from '../protocol/event.js';
import type { Filter } from '../protocol/filter.js';
import { normalizeRelayUrl } from '../protocol/relay-url.js';
import { systemClock } from '../util/clock.js';
import { newConnectionCounters, RelayConnection, type AuthSigner, type ConnectionCounters, type RelayConnectionOptions } from './relay-connection.js';
import type { PublishOptions, RelayPool, RelayPublishResult, RelayStatus, ReqItem, ReqOptions } from './types.js';

/** Pool options: the relays to open now, and the options every connection shares. */
export interface WsRelayPoolOptions extends Omit<RelayConnectionOptions, 'authSigners' | 'counters'> {
  relays?: string[];
  /** How long `req` waits for a relay that is still connecting before counting it as done (ms). Default 10 s. */
  eoseTimeoutMs?: number;
}

/** The ws-backed RelayPool. Relays named in `publish`/`req` that are not yet known are opened on demand. */
export class WsRelayPool implements RelayPool {
  readonly counters: ConnectionCounters = newConnectionCounters();
  readonly #o: WsRelayPoolOptions;
  readonly #conns = new Map<string, RelayConnection>();
  /** Extra connections that authenticate one key each, for relays that accept one key per connection. */
  readonly #lanes = new Map<string, RelayConnection>();
  readonly #signers = new Map<string, AuthSigner>();
  #nextId = 0;
  #closed = false;

  constructor(options: WsRelayPoolOptions = {}) {
    this.#o = options;
    for (const url of options.relays ?? []) this.addRelay(url);
  }

  /** Opens (or returns) the connection to `url`; throws an error naming a bad URL. */
  addRelay(url: string): RelayConnection {
    const key = normalizeRelayUrl(url);
    if (!key) throw new Error(`not a relay URL (expected ws:// or wss://): ${url.slice(0, 80)}`);
    let conn = this.#conns.get(key);
    if (conn) return conn;
    if (this.#closed) throw new Error('relay pool is closed');
    conn = new RelayConnection(key, { ...this.#o, counters: this.counters, authSigners: () => this.#signers.values() });
    this.#conns.set(key, conn);
    conn.connect();
    return conn;
  }

  /**
   * A connection to `url` of its own that authenticates only `signer` (cached per relay and key): for a
   * relay that accepts fewer keys per connection than this pool hosts, so that each key can read what is
   * addressed to it. Not part of `relays()` or `status()`; closed with the pool or by `closeLane`.
   */
  lane(url: string, signer: AuthSigner): RelayConnection {
    const main = this.addRelay(url);
    const key = `${main.url} ${signer.getPublicKey()}`;
    let conn = this.#lanes.get(key);
    if (conn) return conn;
    conn = new RelayConnection(main.url, { ...this.#o, counters: this.counters, authSigners: () => [signer] });
    this.#lanes.set(key, conn);
    conn.connect();
    return conn;
  }

  /** Closes the lane of one key to one relay, if open. */
  async closeLane(url: string, pubkey: string): Promise<void> {
    const key = `${normalizeRelayUrl(url) ?? url} ${pubkey}`;
    const conn = this.#lanes.get(key);
    this.#lanes.delete(key);
    await conn?.close();
  }

  /** Closes and forgets one relay. */
  async removeRelay(url: string): Promise<void> {
    const key = normalizeRelayUrl(url) ?? url;
    const conn = this.#conns.get(key);
    this.#conns.delete(key);
    const lanes = [...this.#lanes].filter(([k]) => k.startsWith(`${key} `));
    for (const [k] of lanes) this.#lanes.delete(k);
    await Promise.all([conn?.close(), ...lanes.map(([, c]) => c.close())]);
  }

  /** The connection for a URL, if open in this pool. */
  connection(url: string): RelayConnection | undefined {
    return this.#conns.get(normalizeRelayUrl(url) ?? url);
  }

  /** Every relay URL in the pool (normalized). */
  relays(): string[] {
    return [...this.#conns.keys()];
  }

  /** Adds a key that answers NIP-42 challenges on every connection (now and after reconnects). */
  addAuthSigner(signer: AuthSigner): void {
    this.#signers.set(signer.getPublicKey(), signer);
    for (const conn of this.#conns.values()) conn.authenticate(signer);
  }

  /** Stops using a key for AUTH (takes effect on the next connection). */
  removeAuthSigner(pubkey: string): void {
    this.#signers.delete(pubkey);
  }

  status(): RelayStatus[] {
    return [...this.#conns.values()].map((c) => c.status());
  }

  async *req(filters: Filter[], options: ReqOptions = {}): AsyncIterable<ReqItem> {
    const urls = options.relays ? options.relays.map((u) => this.addRelay(u).url) : this.relays();
    const queue: ReqItem[] = [];
    const seen = new Set<string>();
    const waitingEose = new Set(urls);
    const stop = new AbortController();
    let ended = false;
    let wake: (() => void) | undefined;
    const push = (item: ReqItem): void => {
      queue.push(item);
      wake?.();
    };
    const done = (url: string): void => {
      if (!waitingEose.delete(url) || waitingEose.size > 0) return;
      push({ type: 'eose' });
      if (options.closeOnEose) ended = true;
    };
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const onAbort = (): void => {
      ended = true;
      wake?.();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const handles = urls.map((url) => {
      const conn = this.addRelay(url);
      const handle = conn.subscribe(`q${++this.#nextId}`, () => filters, {
        onEvent: (event) => {
          if (seen.has(event.id)) return;
          seen.add(event.id);
          push({ type: 'event', event, relay: url });
        },
        onEose: () => done(url),
        onClosed: () => done(url),
      });
      const state = conn.status().state;
      if (state === 'disconnected' || state === 'closed') done(url);
      else if (state === 'connecting') {
        (this.#o.clock ?? systemClock).sleep(this.#o.eoseTimeoutMs ?? 10_000, { signal }).then(() => done(url), () => {});
      }
      return handle;
    });
    if (urls.length === 0) done('');
    try {
      for (;;) {
        const item = queue.shift();
        if (item) {
          yield item;
          continue;
        }
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      stop.abort();
      signal.removeEventListener('abort', onAbort);
      for (const h of handles) h.close();
    }
  }

  /** Stored events matching `filters` until every relay's EOSE (or timeout), deduplicated. */
  async fetch(filters: Filter[], options: Omit<ReqOptions, 'closeOnEose'> = {}): Promise<NostrEvent[]> {
    const out: NostrEvent[] = [];
    for await (const item of this.req(filters, { ...options, closeOnEose: true })) if (item.type === 'event') out.push(item.event);
    return out;
  }

  async publish(event: NostrEvent, options: PublishOptions = {}): Promise<RelayPublishResult[]> {
    const urls = [...new Set(options.relays ?? this.relays())];
    return Promise.all(
      urls.map(async (url): Promise<RelayPublishResult> => {
        let conn: RelayConnection;
        try {
          conn = this.addRelay(url);
        } catch (cause) {
          return { relay: url, ok: false, message: `invalid: ${(cause as Error).message}` };
        }
        if (conn.status().state === 'connecting') await conn.waitConnected({ signal: options.signal });
        return conn.publish(event, options);
      }),
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    const conns = [...this.#conns.values(), ...this.#lanes.values()];
    this.#conns.clear();
    this.#lanes.clear();
    await Promise.all(conns.map((c) => c.close()));
  }
}
