/**
 * One WebSocket to one relay: NIP-01 client messages, every frame parsed with zod and every event
 * verified (malformed or forged ones are dropped and counted), exponential backoff with jitter on
 * disconnect, NIP-42 AUTH for every hosted key (relay-auth.ts), subscriptions split by what the relay
 * restricts (relay-reqs.ts, read-rules.ts, from its NIP-11 document and its refusals), and honest
 * status: `connected` only while the socket is open, and a publish on a closed socket answers
 * `ok: false` instead of pretending it was sent.
 */
import WebSocket from 'ws';
import { verifyEvent } from '../protocol/crypto.js';
import { getEventHash, type NostrEvent } from '../protocol/event.js';
import type { Filter } from '../protocol/filter.js';
import type { RelayInfo } from '../protocol/nip11.js';
import { parseRelayFrame, rejectionPrefix, type RelayMessage } from '../protocol/schema.js';
import { CANCELLED, systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { ReadRules } from './read-rules.js';
import { RelayAuth, type AuthSigner } from './relay-auth.js';
import { fetchRelayInfo } from './relay-info.js';
import { ReqTable, type SubscriptionHandle, type SubscriptionHandlers } from './relay-reqs.js';
import type { RelayPublishResult, RelayState, RelayStatus } from './types.js';
import { sleepLinked } from '../util/linked-signal.js';

export type { AuthSigner } from './relay-auth.js';
export type { SubscriptionHandle, SubscriptionHandlers } from './relay-reqs.js';

/** Wire-level drops, shared by every connection of a pool. */
export interface ConnectionCounters {
  malformed: number;
  invalidSignature: number;
  unrequested: number;
  notices: number;
}

/** A fresh zeroed counters object. */
export function newConnectionCounters(): ConnectionCounters {
  return { malformed: 0, invalidSignature: 0, unrequested: 0, notices: 0 };
}

/**
 * Options; defaults: system clock, silent logger, backoff 500 ms → 60 s ±50%, 10 s publish and
 * connect timeouts, 30 s pings, no AUTH keys, NIP-11 fetched over HTTP (3 s), 5 s AUTH waits.
 */
export interface RelayConnectionOptions {
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
  backoff?: BackoffOptions;
  /** The keys to authenticate with when the relay asks (all of them: one AUTH each). */
  authSigners?: () => Iterable<AuthSigner>;
  publishTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** 0 turns keep-alive pings off. */
  pingIntervalMs?: number;
  counters?: ConnectionCounters;
  onStatus?: (status: RelayStatus) => void;
  /** The relay's NIP-11 document (its restricted kinds and whether it wants AUTH for everything). */
  relayInfo?: (url: string) => Promise<RelayInfo | undefined>;
  /** How long a restricted answer or an `auth-required:` refusal waits for AUTH before it is let through (ms). */
  authWaitMs?: number;
  /**
   * Every outcome that says whether the relay works (for its circuit breaker): true for an EOSE, an OK or a
   * CLOSED the relay chose to send; false with a reason for a failed or dropped socket, a publish with no
   * socket or no answer, and an `error:` or `rate-limited:` answer.
   */
  onHealth?: (ok: boolean, reason?: string) => void;
  /**
   * Sees every event dropped for a bad id or signature, or because it matches no filter asked (another
   * author's, say): a restore reports forged and foreign snapshot events by name instead of as missing.
   */
  onDroppedEvent?: (event: NostrEvent, relay: string, reason: 'bad-signature' | 'unrequested') => void;
}

/** Answers that say the relay is failing or overloaded, not that it judged the request. */
const UNHEALTHY = new Set(['error', 'rate-limited']);

/** One relay socket with reconnects. Call `connect()` once; it keeps itself connected until `close()`. */
export class RelayConnection {
  readonly url: string;
  readonly #o: RelayConnectionOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #counters: ConnectionCounters;
  readonly #rules = new ReadRules();
  readonly #reqs: ReqTable;
  readonly #pending = new Map<string, Array<(r: RelayPublishResult) => void>>();
  readonly #lifetime = new AbortController();
  readonly #auth: RelayAuth;
  readonly #authListeners = new Set<() => void>();
  #info: Promise<RelayInfo | undefined> | undefined;
  #infoSettled = false;
  #infoKnown = false;
  #keyLimit: number | undefined;
  #ws: WebSocket | undefined;
  #state: RelayState = 'disconnected';
  #attempts = 0;
  #connectedAt: number | undefined;
  #lastError: string | undefined;
  #started = false;
  #corked = false;
  #openWaiters = new Set<(open: boolean) => void>();
  #pingTimer: NodeJS.Timeout | undefined;

  constructor(url: string, options: RelayConnectionOptions = {}) {
    this.url = url;
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? silentLogger;
    this.#counters = options.counters ?? newConnectionCounters();
    this.#auth = new RelayAuth({
      url,
      signers: options.authSigners ?? (() => []),
      now: () => Math.floor(this.#clock.now() / 1000),
      clock: this.#clock,
      send: (event) => this.#send(['AUTH', event]),
      logger: this.#log,
      onAuthenticated: () => {
        this.#reqs.afterAuth();
        for (const listener of this.#authListeners) listener();
      },
      keyLimit: () => this.#keyLimit,
      wanted: () => this.#rules.wantsAuth,
      onKeyLimit: (accepted) => {
        if (this.#keyLimit !== undefined && this.#keyLimit <= accepted) return;
        this.#keyLimit = accepted;
        this.#log.log({ level: 'info', ns: 'relay', msg: 'relay accepts a limited number of AUTH keys per connection', relay: url, keys: accepted });
      },
    });
    this.#reqs = new ReqTable({
      url,
      ready: () => this.#state === 'connected' && this.#infoSettled,
      send: (message) => this.#send(message),
      auth: this.#auth,
      rules: this.#rules,
      clock: this.#clock,
      log: this.#log,
      authWaitMs: options.authWaitMs ?? 5000,
      onUnrequested: (event) => {
        this.#counters.unrequested++;
        this.#o.onDroppedEvent?.(event, this.url, 'unrequested');
      },
      health: (ok, reason) => this.#health(ok, reason),
    });
  }

  /** Starts connecting (idempotent); the NIP-11 document is read alongside. */
  connect(): void {
    if (this.#started || this.#lifetime.signal.aborted) return;
    this.#started = true;
    void this.info().finally(() => {
      this.#infoSettled = true;
      // A challenge that came before the document: answered now if the document says reads need AUTH.
      if (this.#rules.wantsAuth) this.#auth.authenticate(this.#auth.keys());
      if (this.#state === 'connected') this.#reqs.onReady();
    });
    this.#open();
  }

  /** The relay's NIP-11 document (fetched once; undefined when it serves none). */
  info(): Promise<RelayInfo | undefined> {
    this.#info ??= (this.#o.relayInfo ?? ((url) => fetchRelayInfo(url)))(this.url)
      .catch(() => undefined)
      .then((info) => {
        this.#rules.learnInfo(info);
        if (info) this.#infoKnown = true;
        return info;
      });
    return this.#info;
  }

  /** Current state, attempts and who is authenticated. */
  status(): RelayStatus {
    const s: RelayStatus = { url: this.url, state: this.#state, attempts: this.#attempts, authenticated: this.#auth.authenticated() };
    if (this.#connectedAt !== undefined) s.connectedAt = this.#connectedAt;
    if (this.#lastError !== undefined) s.lastError = this.#lastError;
    if (this.#keyLimit !== undefined) s.authKeyLimit = this.#keyLimit;
    return s;
  }

  /**
   * True when this connection can authenticate `pubkey` alongside its other keys: always, until the relay
   * has shown it accepts only some keys per connection; then only the first keys (in signer order) it takes.
   */
  sharesAuth(pubkey: string): boolean {
    return this.#keyLimit === undefined || this.#auth.keys().some((s) => s.getPublicKey() === pubkey);
  }

  /** Calls `listener` each time a round of AUTH is answered (what the relay accepts may have changed). */
  onAuthChange(listener: () => void): () => void {
    this.#authListeners.add(listener);
    return () => this.#authListeners.delete(listener);
  }

  /** Resolves true once the socket is open; false when the attempt in progress fails, on timeout, abort or close. */
  waitConnected(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<boolean> {
    if (this.#state === 'connected') return Promise.resolve(true);
    if (this.#state === 'closed') return Promise.resolve(false);
    return new Promise((resolve) => {
      const stop = new AbortController();
      const done = (value: boolean): void => {
        stop.abort(CANCELLED);
        this.#openWaiters.delete(onOpen);
        resolve(value);
      };
      const onOpen = (open: boolean): void => done(open);
      this.#openWaiters.add(onOpen);
      // Not linked to the connection's lifetime: close() answers every waiter itself, so a connection
      // with hundreds of waiters (the outbox's window while a relay is down) adds no listener per waiter.
      sleepLinked(this.#clock, options.timeoutMs ?? this.#o.connectTimeoutMs ?? 10_000, stop.signal, options.signal).then(
        () => done(false),
        () => {
          if (!stop.signal.aborted) done(false);
        },
      );
    });
  }

  /** Authenticates more keys on the open connection (newly hosted agents), if the relay wants AUTH. */
  authenticate(signers: Iterable<AuthSigner>): void {
    if (this.#rules.wantsAuth) this.#auth.authenticate(signers);
  }

  /** Opens a subscription; it survives reconnects, recomputing `filters()` each time. */
  subscribe(id: string, filters: () => Filter[], handlers: SubscriptionHandlers): SubscriptionHandle {
    return this.#reqs.subscribe(id, filters, handlers);
  }

  /**
   * Publishes and waits for the relay's OK; never reports success without one. An `auth-required:`
   * refusal leads to AUTH (waiting a little for a challenge if none came yet) and one retry; once the
   * relay has refused a write for AUTH, later publishes wait for AUTH under way before they are sent.
   */
  async publish(event: NostrEvent, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<RelayPublishResult> {
    const waitMs = this.#o.authWaitMs ?? 5000;
    if (this.#rules.writesNeedAuth) await this.#auth.settled(waitMs, options.signal);
    let result = await this.#publishOnce(event, options);
    if (!result.ok && rejectionPrefix(result.message) === 'auth-required') {
      this.#rules.writesNeedAuth = true;
      if (await this.#auth.ensure(waitMs, options.signal)) result = await this.#publishOnce(event, options);
    }
    if (result.message !== 'error: publish aborted') this.#health(result.ok || !UNHEALTHY.has(rejectionPrefix(result.message) ?? ''), result.message);
    return result;
  }

  /** Closes the socket for good; pending publishes answer `ok: false`. */
  async close(): Promise<void> {
    this.#lifetime.abort();
    this.#stopPing();
    const ws = this.#ws;
    this.#setState('closed');
    this.#failPending('error: connection closed');
    for (const waiter of [...this.#openWaiters]) waiter(false);
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.close();
    });
  }

  #publishOnce(event: NostrEvent, options: { timeoutMs?: number; signal?: AbortSignal }): Promise<RelayPublishResult> {
    if (this.#state !== 'connected') return Promise.resolve({ relay: this.url, ok: false, message: 'error: relay not connected' });
    return new Promise((resolve) => {
      const stop = new AbortController();
      const finish = (r: RelayPublishResult): void => {
        stop.abort(CANCELLED);
        const list = this.#pending.get(event.id)?.filter((f) => f !== finish);
        if (list && list.length > 0) this.#pending.set(event.id, list);
        else this.#pending.delete(event.id);
        resolve(r);
      };
      this.#pending.set(event.id, [...(this.#pending.get(event.id) ?? []), finish]);
      if (!this.#send(['EVENT', event])) return finish({ relay: this.url, ok: false, message: 'error: relay not connected' });
      const timeout = options.timeoutMs ?? this.#o.publishTimeoutMs ?? 10_000;
      sleepLinked(this.#clock, timeout, stop.signal, options.signal).then(
        () => finish({ relay: this.url, ok: false, message: 'error: timed out waiting for OK' }),
        () => {
          if (!stop.signal.aborted) finish({ relay: this.url, ok: false, message: 'error: publish aborted' });
        },
      );
    });
  }

  #open(): void {
    if (this.#lifetime.signal.aborted) return;
    this.#setState('connecting');
    const ws = new WebSocket(this.url, { handshakeTimeout: this.#o.connectTimeoutMs ?? 10_000, maxPayload: 16 * 1024 * 1024 });
    this.#ws = ws;
    ws.on('open', () => this.#onOpen(ws));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return void this.#counters.malformed++;
      this.#onFrame(data.toString());
    });
    ws.on('pong', () => ((ws as WebSocket & { alive?: boolean }).alive = true));
    ws.on('error', (err) => {
      this.#lastError = err.message;
    });
    ws.on('close', (code, reason) => this.#onClose(ws, code, reason.toString()));
  }

  #onOpen(ws: WebSocket): void {
    if (this.#ws !== ws) return;
    this.#attempts = 0;
    this.#connectedAt = this.#clock.now();
    this.#lastError = undefined;
    this.#setState('connected');
    this.#log.log({ level: 'debug', ns: 'relay', msg: 'connected', relay: this.url });
    for (const waiter of [...this.#openWaiters]) waiter(true);
    // REQs go out once the NIP-11 document is in (it says which kinds need REQs of their own).
    if (this.#infoSettled) this.#reqs.onReady();
    // A relay that was down at first may serve its document now: read it again, in the background.
    if (this.#infoSettled && !this.#infoKnown) {
      this.#info = undefined;
      void this.info();
    }
    this.#startPing(ws);
  }

  #onClose(ws: WebSocket, code: number, reason: string): void {
    if (this.#ws !== ws) return;
    this.#ws = undefined;
    this.#stopPing();
    this.#reqs.onGone();
    this.#auth.reset();
    this.#failPending('error: connection closed');
    if (this.#lifetime.signal.aborted) return this.#setState('closed');
    this.#lastError ??= `closed (${code}${reason ? `: ${reason}` : ''})`;
    this.#health(false, `error: ${this.#lastError}`);
    this.#setState('disconnected');
    for (const waiter of [...this.#openWaiters]) waiter(false);
    const delay = backoffDelay(this.#attempts, this.#o.backoff, this.#o.random);
    this.#attempts++;
    this.#log.log({ level: 'debug', ns: 'relay', msg: 'disconnected', relay: this.url, error: this.#lastError, retryInMs: delay });
    this.#clock.sleep(delay, { signal: this.#lifetime.signal }).then(
      () => this.#open(),
      () => {},
    );
  }

  #onFrame(text: string): void {
    const parsed = parseRelayFrame(text);
    if (!parsed.ok) {
      this.#counters.malformed++;
      this.#log.log({ level: 'debug', ns: 'relay', msg: 'malformed frame dropped', relay: this.url, problem: parsed.problem });
      return;
    }
    this.#onMessage(parsed.message);
  }

  #onMessage(msg: RelayMessage): void {
    switch (msg[0]) {
      case 'EVENT': {
        const event = msg[2];
        return this.#reqs.onEvent(msg[1], event, (signature) => {
          if (signature ? verifyEvent(event) : idMatches(event)) return true;
          this.#counters.invalidSignature++;
          this.#o.onDroppedEvent?.(event, this.url, 'bad-signature');
          this.#log.log({ level: 'debug', ns: 'relay', msg: 'event with bad id or signature dropped', relay: this.url, id: event.id });
          return false;
        });
      }
      case 'EOSE':
        return this.#reqs.onEose(msg[1]);
      case 'OK': {
        if (this.#auth.onOk(msg[1], msg[2], msg[3])) return;
        for (const finish of this.#pending.get(msg[1]) ?? []) finish({ relay: this.url, ok: msg[2] || rejectionPrefix(msg[3]) === 'duplicate', message: msg[3] });
        return;
      }
      case 'CLOSED':
        return this.#reqs.onClosed(msg[1], msg[2]);
      case 'AUTH':
        return this.#auth.onChallenge(msg[1]);
      case 'NOTICE':
        this.#counters.notices++;
        this.#log.log({ level: 'debug', ns: 'relay', msg: 'notice', relay: this.url, notice: msg[1].slice(0, 200) });
        return;
      default:
        return;
    }
  }

  #health(ok: boolean, reason?: string): void {
    this.#o.onHealth?.(ok, reason);
  }

  #send(message: unknown[]): boolean {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    this.#cork(ws);
    ws.send(JSON.stringify(message));
    return true;
  }

  /**
   * Holds the socket's writes until the current turn of the event loop ends, so the frames sent in
   * one turn (an outbox round's events, a resubscription's REQs) leave in one `writev`, not one
   * syscall each. `ws` corks around every frame itself; the counts nest, so this outer cork wins.
   */
  #cork(ws: WebSocket): void {
    if (this.#corked) return;
    const socket = (ws as WebSocket & { _socket?: { cork(): void; uncork(): void } })._socket;
    if (!socket) return;
    this.#corked = true;
    socket.cork();
    process.nextTick(() => {
      this.#corked = false;
      socket.uncork();
    });
  }

  #failPending(message: string): void {
    for (const [, finishers] of [...this.#pending]) for (const finish of finishers) finish({ relay: this.url, ok: false, message });
  }

  #setState(state: RelayState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#o.onStatus?.(this.status());
  }

  #startPing(ws: WebSocket): void {
    const every = this.#o.pingIntervalMs ?? 30_000;
    if (every <= 0) return;
    const tracked = ws as WebSocket & { alive?: boolean };
    tracked.alive = true;
    this.#pingTimer = setInterval(() => {
      // No pong since the last ping: the path is dead even if TCP has not noticed yet.
      if (!tracked.alive) return ws.terminate();
      tracked.alive = false;
      ws.ping();
    }, every);
    this.#pingTimer.unref();
  }

  #stopPing(): void {
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
  }
}

/** The event's id is the hash of its content (no signature check: see `SubscriptionHandlers.signatureNeeded`). */
function idMatches(event: NostrEvent): boolean {
  try {
    return getEventHash(event) === event.id;
  } catch {
    return false;
  }
}
