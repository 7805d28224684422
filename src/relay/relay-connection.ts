/**
 * One WebSocket to one relay: NIP-01 client messages, every frame parsed with zod and every event
 * verified (malformed or forged ones are dropped and counted), exponential backoff with jitter on
 * disconnect, NIP-42 AUTH for every hosted key, and honest status: `connected` only while the socket
 * is open, and a publish on a closed socket answers `ok: false` instead of pretending it was sent.
 */
import WebSocket from 'ws';
import { verifyEvent } from '../protocol/crypto.js';
import type { NostrEvent } from '../protocol/event.js';
import { matchFilters, type Filter } from '../protocol/filter.js';
import { parseRelayFrame, rejectionPrefix, type RelayMessage } from '../protocol/schema.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { RelayAuth, type AuthSigner } from './relay-auth.js';
import type { RelayPublishResult, RelayState, RelayStatus } from './types.js';

export type { AuthSigner } from './relay-auth.js';

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

/** Callbacks of one subscription. */
export interface SubscriptionHandlers {
  onEvent(event: NostrEvent): void;
  onEose?(): void;
  /** The relay closed the subscription (after AUTH retries were exhausted, for `auth-required:`). */
  onClosed?(reason: string): void;
  /** The REQ was (re)sent: stored events will be replayed up to a new EOSE. */
  onSent?(): void;
}

/** A live subscription: re-sent on every reconnect with freshly computed filters. */
export interface SubscriptionHandle {
  /** Re-sends the REQ with the current filters (same id: the relay replaces it). */
  refresh(): void;
  close(): void;
}

/**
 * Options; defaults: system clock, silent logger, backoff 500 ms → 60 s ±50%, 10 s publish and
 * connect timeouts, 30 s pings, no AUTH keys.
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
}

interface Sub {
  filters: () => Filter[];
  sent: Filter[];
  handlers: SubscriptionHandlers;
  authRetries: number;
  /** The subscription id of its REQ on the current socket: `<id>:<n>`, new on every send. */
  wireId?: string;
}

/** One relay socket with reconnects. Call `connect()` once; it keeps itself connected until `close()`. */
export class RelayConnection {
  readonly url: string;
  readonly #o: RelayConnectionOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #counters: ConnectionCounters;
  readonly #subs = new Map<string, Sub>();
  /** Open REQs on the current socket by wire id, and the ids this side replaced or closed on it. */
  readonly #wire = new Map<string, Sub>();
  readonly #retired = new Set<string>();
  #reqs = 0;
  readonly #pending = new Map<string, Array<(r: RelayPublishResult) => void>>();
  readonly #lifetime = new AbortController();
  readonly #auth: RelayAuth;
  #ws: WebSocket | undefined;
  #state: RelayState = 'disconnected';
  #attempts = 0;
  #connectedAt: number | undefined;
  #lastError: string | undefined;
  #started = false;
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
      send: (event) => this.#send(['AUTH', event]),
      logger: this.#log,
      onAuthenticated: () => this.#resendAuthWaiting(),
    });
  }

  /** Starts connecting (idempotent). */
  connect(): void {
    if (this.#started || this.#lifetime.signal.aborted) return;
    this.#started = true;
    this.#open();
  }

  /** Current state, attempts and who is authenticated. */
  status(): RelayStatus {
    const s: RelayStatus = { url: this.url, state: this.#state, attempts: this.#attempts, authenticated: this.#auth.authenticated() };
    if (this.#connectedAt !== undefined) s.connectedAt = this.#connectedAt;
    if (this.#lastError !== undefined) s.lastError = this.#lastError;
    return s;
  }

  /** Resolves true once the socket is open; false when the attempt in progress fails, on timeout, abort or close. */
  waitConnected(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<boolean> {
    if (this.#state === 'connected') return Promise.resolve(true);
    if (this.#state === 'closed') return Promise.resolve(false);
    return new Promise((resolve) => {
      const stop = new AbortController();
      const done = (value: boolean): void => {
        stop.abort();
        this.#openWaiters.delete(onOpen);
        resolve(value);
      };
      const onOpen = (open: boolean): void => done(open);
      this.#openWaiters.add(onOpen);
      const signals = [stop.signal, this.#lifetime.signal, ...(options.signal ? [options.signal] : [])];
      this.#clock.sleep(options.timeoutMs ?? this.#o.connectTimeoutMs ?? 10_000, { signal: AbortSignal.any(signals) }).then(
        () => done(false),
        () => {
          if (!stop.signal.aborted) done(false);
        },
      );
    });
  }

  /** Authenticates one more key on the open connection (a newly hosted agent). */
  authenticate(signer: AuthSigner): void {
    this.#auth.authenticate([signer]);
  }

  /** Opens a subscription; it survives reconnects, recomputing `filters()` each time. */
  subscribe(id: string, filters: () => Filter[], handlers: SubscriptionHandlers): SubscriptionHandle {
    const sub: Sub = { filters, sent: [], handlers, authRetries: 0 };
    this.#subs.set(id, sub);
    this.#sendReq(id, sub);
    return {
      refresh: () => {
        if (this.#subs.get(id) === sub) this.#sendReq(id, sub);
      },
      close: () => {
        if (this.#subs.get(id) !== sub) return;
        this.#subs.delete(id);
        this.#retire(sub);
      },
    };
  }

  /** Publishes and waits for the relay's OK; never reports success without one. */
  async publish(event: NostrEvent, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<RelayPublishResult> {
    let result = await this.#publishOnce(event, options);
    if (!result.ok && rejectionPrefix(result.message) === 'auth-required' && (await this.#auth.ensure(options.signal))) {
      result = await this.#publishOnce(event, options);
    }
    return result;
  }

  /** Closes the socket for good; pending publishes answer `ok: false`. */
  async close(): Promise<void> {
    this.#lifetime.abort();
    this.#stopPing();
    const ws = this.#ws;
    this.#setState('closed');
    this.#failPending('error: connection closed');
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
        stop.abort();
        const list = this.#pending.get(event.id)?.filter((f) => f !== finish);
        if (list && list.length > 0) this.#pending.set(event.id, list);
        else this.#pending.delete(event.id);
        resolve(r);
      };
      this.#pending.set(event.id, [...(this.#pending.get(event.id) ?? []), finish]);
      if (!this.#send(['EVENT', event])) return finish({ relay: this.url, ok: false, message: 'error: relay not connected' });
      const timeout = options.timeoutMs ?? this.#o.publishTimeoutMs ?? 10_000;
      const signals = [stop.signal, ...(options.signal ? [options.signal] : [])];
      this.#clock.sleep(timeout, { signal: AbortSignal.any(signals) }).then(
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
    this.#forgetWireIds();
    this.#log.log({ level: 'debug', ns: 'relay', msg: 'connected', relay: this.url });
    for (const waiter of [...this.#openWaiters]) waiter(true);
    for (const [id, sub] of this.#subs) {
      sub.authRetries = 0;
      this.#sendReq(id, sub);
    }
    this.#startPing(ws);
  }

  #onClose(ws: WebSocket, code: number, reason: string): void {
    if (this.#ws !== ws) return;
    this.#ws = undefined;
    this.#stopPing();
    this.#forgetWireIds();
    this.#auth.reset();
    this.#failPending('error: connection closed');
    if (this.#lifetime.signal.aborted) return this.#setState('closed');
    this.#lastError ??= `closed (${code}${reason ? `: ${reason}` : ''})`;
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
        const sub = this.#wire.get(msg[1]);
        // Stored events of a REQ this side already replaced or closed: requested, just no longer wanted.
        if (!sub && this.#retired.has(msg[1])) return;
        if (!sub || !matchFilters(sub.sent, msg[2])) return void this.#counters.unrequested++;
        if (!verifyEvent(msg[2])) {
          this.#counters.invalidSignature++;
          this.#log.log({ level: 'debug', ns: 'relay', msg: 'event with bad id or signature dropped', relay: this.url, id: msg[2].id });
          return;
        }
        return sub.handlers.onEvent(msg[2]);
      }
      case 'EOSE':
        // Only the current REQ's EOSE counts: a replaced REQ's late EOSE would end the new one's stored events early.
        return this.#wire.get(msg[1])?.handlers.onEose?.();
      case 'OK': {
        if (this.#auth.onOk(msg[1], msg[2], msg[3])) return;
        for (const finish of this.#pending.get(msg[1]) ?? []) finish({ relay: this.url, ok: msg[2] || rejectionPrefix(msg[3]) === 'duplicate', message: msg[3] });
        return;
      }
      case 'CLOSED':
        return this.#onClosed(msg[1], msg[2]);
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

  #onClosed(wireId: string, reason: string): void {
    const sub = this.#wire.get(wireId);
    if (!sub) return;
    this.#wire.delete(wireId);
    sub.wireId = undefined;
    const id = wireId.slice(0, wireId.lastIndexOf(':'));
    if (rejectionPrefix(reason) === 'auth-required' && sub.authRetries < 3) {
      sub.authRetries++;
      sub.sent = [];
      // Re-sent by #resendAuthWaiting once every key's AUTH has been answered.
      if (this.#auth.request()) return;
    }
    this.#log.log({ level: 'debug', ns: 'relay', msg: 'subscription closed by relay', relay: this.url, sub: id, reason });
    sub.handlers.onClosed?.(reason);
  }

  #resendAuthWaiting(): void {
    for (const [id, sub] of this.#subs) if (sub.sent.length === 0 && sub.authRetries > 0) this.#sendReq(id, sub);
  }

  #sendReq(id: string, sub: Sub): void {
    if (this.#state !== 'connected') return;
    const filters = sub.filters();
    if (filters.length === 0) return;
    this.#retire(sub);
    const wireId = `${id}:${(++this.#reqs).toString(36)}`;
    sub.sent = filters;
    sub.wireId = wireId;
    this.#wire.set(wireId, sub);
    if (this.#send(['REQ', wireId, ...filters])) sub.handlers.onSent?.();
  }

  /** Closes a sub's open REQ on this socket; its late answers are then ignored. */
  #retire(sub: Sub): void {
    if (sub.wireId === undefined) return;
    this.#wire.delete(sub.wireId);
    this.#retired.add(sub.wireId);
    // Late answers come right after the CLOSE; a bounded memory of recent ids is enough.
    if (this.#retired.size > 256) this.#retired.delete(this.#retired.values().next().value as string);
    this.#send(['CLOSE', sub.wireId]);
    sub.wireId = undefined;
  }

  /** A new socket: no REQ is open on it yet. */
  #forgetWireIds(): void {
    for (const sub of this.#wire.values()) sub.wireId = undefined;
    this.#wire.clear();
    this.#retired.clear();
  }

  #send(message: unknown[]): boolean {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(message));
    return true;
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
