/**
 * Many relays behind the RelayPool seam: subscriptions across relays deduplicated by event id with
 * one EOSE after all of them, and publishes that return each relay's real OK answer. Each relay has a
 * circuit breaker (breaker.ts): `req` and `publish` skip relays whose breaker is open, unless every
 * relay asked for is open (then all are tried: never all dropped). Long-lived subscriptions made on a
 * connection (the inbox) are not routed; their connection's own reconnect backoff applies.
 */
import type { NostrEvent } from '../protocol/event.js';
import type { Filter } from '../protocol/filter.js';
import { normalizeRelayUrl } from '../protocol/relay-url.js';
import { CANCELLED, systemClock } from '../util/clock.js';
import { RelayBreaker, type BreakerOptions, type BreakerSnapshot } from './breaker.js';
import { newConnectionCounters, RelayConnection, type AuthSigner, type ConnectionCounters, type RelayConnectionOptions } from './relay-connection.js';
import type { PublishOptions, RelayPool, RelayPublishResult, RelayStatus, ReqItem, ReqOptions } from './types.js';

/** Pool options: the relays to open now, and the options every connection shares. */
export interface WsRelayPoolOptions extends Omit<RelayConnectionOptions, 'authSigners' | 'counters' | 'onHealth'> {
  relays?: string[];
  /** When a relay's breaker opens and for how long (see BreakerOptions). */
  breaker?: BreakerOptions;
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
  readonly #breakers = new Map<string, RelayBreaker>();
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
    conn = new RelayConnection(key, { ...this.#o, counters: this.counters, authSigners: () => this.#signers.values(), onHealth: this.#healthOf(key) });
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
    conn = new RelayConnection(main.url, { ...this.#o, counters: this.counters, authSigners: () => [signer], onHealth: this.#healthOf(main.url) });
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
    this.addAuthSigners([signer]);
  }

  /** Adds many keys at once: each connection queues their AUTH in one go (batched, see relay-auth.ts). */
  addAuthSigners(signers: readonly AuthSigner[]): void {
    for (const signer of signers) this.#signers.set(signer.getPublicKey(), signer);
    if (signers.length > 0) for (const conn of this.#conns.values()) conn.authenticate(signers);
  }

  /** Stops using a key for AUTH (takes effect on the next connection). */
  removeAuthSigner(pubkey: string): void {
    this.#signers.delete(pubkey);
  }

  /** Each relay's state, with its breaker. */
  status(): RelayStatus[] {
    return [...this.#conns.values()].map((c) => ({ ...c.status(), ...(this.#breakers.get(c.url) ? { breaker: this.#breakers.get(c.url)!.snapshot() } : {}) }));
  }

  /** Read-only: every relay's circuit breaker (state, health score, failures in a row, when it is tried again). */
  breakers(): BreakerSnapshot[] {
    return [...this.#breakers.values()].map((b) => b.snapshot());
  }

  /** The relays of `urls` whose breaker is not open; all of them when every one is open. */
  #healthy(urls: string[]): { use: string[]; skipped: string[] } {
    const use = urls.filter((u) => this.#breakers.get(u)?.allows() ?? true);
    if (use.length === 0) return { use: urls, skipped: [] };
    return { use, skipped: urls.filter((u) => !use.includes(u)) };
  }

  #healthOf(url: string): (ok: boolean, reason?: string) => void {
    let breaker = this.#breakers.get(url);
    if (!breaker) {
      breaker = new RelayBreaker(url, this.#o.clock ?? systemClock, this.#o.breaker);
      this.#breakers.set(url, breaker);
    }
    const b = breaker;
    return (ok, reason) => (ok ? b.success() : b.failure(reason ?? 'error'));
  }

  async *req(filters: Filter[], options: ReqOptions = {}): AsyncIterable<ReqItem> {
    const asked = options.relays ? options.relays.map((u) => this.addRelay(u).url) : this.relays();
    const urls = this.#healthy([...new Set(asked)]).use;
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
        ...(options.signatureNeeded ? { signatureNeeded: options.signatureNeeded } : {}),
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
      stop.abort(CANCELLED);
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
    const conns = new Map<string, RelayConnection>();
    const invalid: RelayPublishResult[] = [];
    for (const url of urls) {
      try {
        conns.set(url, this.addRelay(url));
      } catch (cause) {
        invalid.push({ relay: url, ok: false, message: `invalid: ${(cause as Error).message}` });
      }
    }
    const { use, skipped } = this.#healthy([...new Set([...conns.values()].map((c) => c.url))]);
    const sent = Promise.all(
      use.map(async (url): Promise<RelayPublishResult> => {
        const conn = this.connection(url)!;
        if (conn.status().state === 'connecting') await conn.waitConnected({ signal: options.signal });
        return conn.publish(event, options);
      }),
    );
    const notTried = skipped.map((url): RelayPublishResult => {
      const b = this.#breakers.get(url)!.snapshot();
      const when = b.retryAt === undefined ? '' : `; next try at ${new Date(b.retryAt).toISOString()}`;
      return { relay: url, ok: false, message: `error: not tried: circuit open after ${b.consecutiveFailures} failures in a row (last: ${b.lastFailure ?? 'unknown'})${when}` };
    });
    const all = [...(await sent), ...notTried, ...invalid];
    // In the order asked, as before there were breakers.
    return urls.map((u) => all.find((r) => r.relay === u || r.relay === conns.get(u)?.url)!);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const conns = [...this.#conns.values(), ...this.#lanes.values()];
    this.#conns.clear();
    this.#lanes.clear();
    await Promise.all(conns.map((c) => c.close()));
  }
}
