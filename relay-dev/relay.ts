/**
 * The relay, khatru-style: a store plus arrays of hook functions an operator can push onto, and the
 * dispatch of client messages to one handler per verb (adding, querying, counting, auth).
 */
import type { NostrEvent } from '../src/protocol/event.js';
import { matchFilter } from '../src/protocol/filter.js';
import { handleAuth } from './auth.js';
import { withCorkedSends, type Connection } from './connection.js';
import { handleCount } from './counting.js';
import { handleEvent } from './adding.js';
import { Ingest } from './ingest.js';
import { resolveLimits } from './limits.js';
import { authRequiredForEvents, authRequiredForReads, eventLimits, eventRateLimit, privateKindsNeedAuth, protectedEvents } from './policies.js';
import { handleClose, handleReq } from './querying.js';
import { contentMatches } from './search.js';
import type { EventStore, QueryScope } from './store.js';
import type {
  AuthMode,
  OnClosedHook,
  OnEphemeralEventHook,
  OnEventSavedHook,
  OnOkHook,
  OnReqServedHook,
  RejectEventHook,
  RejectFilterHook,
  RejectReqHook,
  RelayLimits,
  RelayLogger,
  WithholdMode,
} from './types.js';
import { Verifier } from './verifier.js';
import type { RelayMetrics } from './metrics.js';

/** What NIP-11 says about the relay (besides limits). */
export interface RelayInfo {
  name: string;
  description: string;
  pubkey?: string;
  contact?: string;
  software: string;
  version: string;
  supported_nips: number[];
}

/** Everything a Relay is built from; all optional except the store. */
export interface RelayConfig {
  store: EventStore;
  limits?: Partial<RelayLimits>;
  info?: Partial<RelayInfo>;
  /** Milliseconds since the epoch (tests may pass a manual clock). Default Date.now. */
  now?: () => number;
  /** Signature checking; default a worker pool sized to the machine. */
  verifier?: Verifier;
  logger?: RelayLogger;
  /** Kinds served only to an authenticated pubkey named in their `p` tag. Default [4, 1059] (none with `auth: 'off'`). */
  privateKinds?: number[];
  /** The public ws(s) URL, accepted in NIP-42 `relay` tags besides the Host the client connected to. */
  publicUrl?: string;
  /** When the challenge is sent and what needs AUTH (see AuthMode). Default `on-connect`. */
  auth?: AuthMode;
  /** How unauthenticated reads of private kinds are answered (see WithholdMode). Default: refused. */
  withhold?: WithholdMode;
  /** How many pubkeys may authenticate on one connection (strfry and others: 1). Default: no limit. */
  authKeysPerConnection?: number;
}

/** The default NIP-11 identity of relay-dev. */
export const DEFAULT_INFO: RelayInfo = {
  name: 'relay-dev',
  description: 'The Nostr agent runtime\'s bundled relay: NIP-01 with SQLite storage, for development and self-hosting.',
  // NIP-11 asks for the project's URL; the package has none published yet, so it names itself (no made-up URL).
  software: 'nostr-agent-runtime/relay-dev',
  version: '0.1.0',
  supported_nips: [1, 9, 11, 17, 40, 42, 45, 50, 59, 70],
};

/** Whether a connection gets the challenge as soon as it opens. */
export function challengesOnConnect(mode: AuthMode): boolean {
  return mode === 'on-connect' || mode === 'required';
}

/** A Nostr relay: hooks, subscriptions, and the ingest pipeline over an EventStore. */
export class Relay {
  readonly store: EventStore;
  readonly limits: RelayLimits;
  readonly info: RelayInfo;
  readonly now: () => number;
  readonly verifier: Verifier;
  readonly logger: RelayLogger;
  readonly publicUrl: string | undefined;
  /** Kinds served only to their authenticated `p` recipient. */
  privateKinds: number[];
  /** NIP-42 behaviour (fixed at construction: the hooks below are chosen by it). */
  readonly authMode: AuthMode;
  readonly withhold: WithholdMode | undefined;
  readonly authKeysPerConnection: number;
  /** Each may refuse an incoming event (return a prefixed message). Runs in order; first refusal wins. */
  readonly rejectEvent: RejectEventHook[];
  /** Each may refuse a REQ/COUNT filter. */
  readonly rejectFilter: RejectFilterHook[];
  /** Each may refuse a whole REQ/COUNT (its filters together), after every filter passed rejectFilter. */
  readonly rejectReq: RejectReqHook[];
  /** Called after each event is committed. */
  readonly onEventSaved: OnEventSavedHook[] = [];
  /** Called after each ephemeral event is delivered. */
  readonly onEphemeralEvent: OnEphemeralEventHook[] = [];
  /** Called after every OK sent (metrics). */
  readonly onOk: OnOkHook[] = [];
  /** Called after every CLOSED the relay sends (metrics). */
  readonly onClosed: OnClosedHook[] = [];
  /** Called after each REQ's EOSE with its duration and event count (metrics). */
  readonly onReqServed: OnReqServedHook[] = [];
  /** Open connections. */
  readonly connections = new Set<Connection>();
  /** Counters for logs and benchmarks. */
  readonly stats = { received: 0, saved: 0, duplicates: 0, rejected: 0, invalid: 0, notices: 0 };
  readonly ingest: Ingest;
  /** Set while shutting down: new frames get a NOTICE and nothing else. */
  closing = false;
  /** When set, GET /metrics on the relay's port answers with them (startRelay's `metrics` option). */
  metrics: RelayMetrics | undefined;

  constructor(config: RelayConfig) {
    this.store = config.store;
    this.limits = resolveLimits(config.limits);
    this.info = { ...DEFAULT_INFO, ...config.info };
    if (config.auth === 'off') this.info.supported_nips = this.info.supported_nips.filter((n) => n !== 42);
    this.now = config.now ?? Date.now;
    this.logger = config.logger ?? { log: () => {} };
    this.verifier = config.verifier ?? new Verifier(undefined, (msg) => this.logger.log({ level: 'warn', ns: 'relay', msg }));
    this.publicUrl = config.publicUrl;
    this.authMode = config.auth ?? 'on-connect';
    this.withhold = config.withhold;
    this.authKeysPerConnection = config.authKeysPerConnection ?? Number.POSITIVE_INFINITY;
    // Without NIP-42 nobody could ever read a private kind: a relay that never heard of AUTH serves them to all.
    this.privateKinds = this.authMode === 'off' ? [] : (config.privateKinds ?? [4, 1059]);
    const authEnabled = (): boolean => this.authMode !== 'off';
    this.rejectEvent = [eventRateLimit(this.limits, this.now), eventLimits(this.limits, this.now), protectedEvents(authEnabled)];
    this.rejectFilter = [];
    this.rejectReq = [privateKindsNeedAuth(() => this.privateKinds, () => this.withhold)];
    if (this.authMode === 'required') {
      this.rejectEvent.unshift(authRequiredForEvents());
      this.rejectReq.unshift(authRequiredForReads());
    }
    this.ingest = new Ingest(this);
  }

  /** Current unix time in seconds. */
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** What a connection may read: not expired, and private kinds only when addressed to it. */
  scope(conn: Connection): QueryScope {
    return { now: this.nowSeconds(), privateKinds: this.privateKinds, readers: [...conn.authed] };
  }

  /** True when a live event may go to this connection (the same rule as scope()). */
  canSee(conn: Connection, event: NostrEvent): boolean {
    if (!this.privateKinds.includes(event.kind)) return true;
    return event.tags.some((t) => t[0] === 'p' && t[1] !== undefined && conn.authed.has(t[1]));
  }

  /** Handles one client frame; nothing a client sends can throw out of here. */
  handleMessage(conn: Connection, text: string): void {
    withCorkedSends(() => this.dispatch(conn, text));
  }

  private dispatch(conn: Connection, text: string): void {
    if (this.closing) return this.notice(conn, 'error: the relay is shutting down');
    if (Buffer.byteLength(text) > this.limits.maxMessageBytes) return this.tooLarge(conn, text);
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return this.notice(conn, 'invalid: message is not valid JSON');
    }
    if (!Array.isArray(msg) || typeof msg[0] !== 'string') {
      return this.notice(conn, 'invalid: a message must be a JSON array starting with a verb');
    }
    try {
      switch (msg[0]) {
        case 'EVENT':
          return handleEvent(this, conn, msg);
        case 'REQ':
          return handleReq(this, conn, msg);
        case 'CLOSE':
          return handleClose(this, conn, msg);
        case 'COUNT':
          return handleCount(this, conn, msg);
        case 'AUTH':
          return handleAuth(this, conn, msg);
        default:
          return this.notice(conn, `invalid: unknown message type ${JSON.stringify(msg[0]).slice(0, 40)}`);
      }
    } catch (error) {
      this.logger.log({ level: 'error', ns: 'relay', msg: 'handler failed', verb: msg[0], error: String(error) });
      return this.notice(conn, 'error: the relay failed to handle this message');
    }
  }

  /** Delivers an accepted event to every open subscription that matches it. */
  broadcast(event: NostrEvent, raw: string): void {
    for (const conn of this.connections) {
      if (conn.subs.size === 0 || !this.canSee(conn, event)) continue;
      for (const sub of conn.subs.values()) {
        const hit = sub.filters.some((f, i) => {
          if (!matchFilter(f, event)) return false;
          const terms = sub.terms[i];
          return terms === undefined || contentMatches(event.content, terms);
        });
        if (hit) conn.event(sub.id, raw);
      }
    }
  }

  /** What a connection reports of the answers it sends, for the `onOk` and `onClosed` hooks. */
  readonly answers = {
    ok: (accepted: boolean, message: string): void => {
      for (const hook of this.onOk) this.safely(() => hook(accepted, message));
    },
    closed: (message: string): void => {
      for (const hook of this.onClosed) this.safely(() => hook(message));
    },
  };

  /** Runs an observer hook; one that throws is logged, never allowed to break the answer. */
  safely(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.logger.log({ level: 'error', ns: 'relay', msg: 'hook threw', error: String(error) });
    }
  }

  /** Sends a NOTICE and counts it. */
  notice(conn: Connection, message: string): void {
    this.stats.notices++;
    conn.notice(message);
  }

  /** Waits until every accepted EVENT so far is committed and answered. */
  drain(): Promise<void> {
    return this.ingest.drain();
  }

  /** An over-size frame: a refusal the client can match (OK for EVENT, CLOSED for REQ/COUNT), else NOTICE. */
  private tooLarge(conn: Connection, text: string): void {
    const reason = `invalid: message is ${Buffer.byteLength(text)} bytes, the limit is ${this.limits.maxMessageBytes}`;
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return this.notice(conn, reason);
    }
    if (Array.isArray(msg) && msg[0] === 'EVENT' && /^[0-9a-f]{64}$/.test(String((msg[1] as { id?: unknown })?.id))) {
      this.stats.rejected++;
      return conn.ok(String((msg[1] as { id: string }).id), false, reason);
    }
    if (Array.isArray(msg) && (msg[0] === 'REQ' || msg[0] === 'COUNT') && typeof msg[1] === 'string' && msg[1] !== '') {
      return conn.closed(msg[1], reason);
    }
    return this.notice(conn, reason);
  }
}
