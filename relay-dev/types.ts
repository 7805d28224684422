/**
 * The small shapes relay-dev is built from: limits, what a hook sees of a connection, the hook types
 * an operator pushes onto a Relay's arrays, and the logger seam (structurally the project's Logger).
 */
import type { NostrEvent } from '../src/protocol/event.js';
import type { Filter } from '../src/protocol/filter.js';

/** Limits the relay enforces and advertises in NIP-11 `limitation`. */
export interface RelayLimits {
  /** Largest client message in bytes (UTF-8), NIP-11 `max_message_length`. */
  maxMessageBytes: number;
  /** Open subscriptions per connection. */
  maxSubscriptions: number;
  /** Filters in one REQ or COUNT. */
  maxFilters: number;
  /** A filter's `limit` is capped to this (and a filter without `limit` gets it). */
  maxLimit: number;
  /** Longest subscription id. */
  maxSubIdLength: number;
  /** Most tags in one event. */
  maxEventTags: number;
  /** Longest `content`, in characters. */
  maxContentLength: number;
  /** Sustained EVENTs per second per connection (token bucket refill); 0 turns the rate limit off. */
  eventsPerSecond: number;
  /** Bucket size: how many EVENTs a connection may send in a burst. */
  eventBurst: number;
  /** Refuse events whose created_at is more than this many seconds in the future. */
  createdAtFutureSeconds: number;
}

/** What hooks see of a client connection. */
export interface ConnectionInfo {
  /** A per-process connection number, for logs. */
  readonly id: number;
  /** The peer address. */
  readonly ip: string;
  /** Pubkeys that completed NIP-42 AUTH on this connection. */
  readonly authed: ReadonlySet<string>;
  /** The current NIP-42 challenge. */
  readonly challenge: string;
  /** True once the challenge has been sent to the client. */
  readonly challenged: boolean;
}

/** A verdict: undefined accepts; a string refuses (a NIP-01 prefix is added when missing: `blocked:`). */
export type Verdict = string | undefined;

/** Decides whether to refuse an incoming event (runs before the signature check and storage). */
export type RejectEventHook = (event: NostrEvent, conn: ConnectionInfo) => Verdict | Promise<Verdict>;

/** Decides whether to refuse a REQ or COUNT filter; a refusal becomes CLOSED with its message. */
export type RejectFilterHook = (filter: Filter, conn: ConnectionInfo) => Verdict;

/** Decides whether to refuse a whole REQ or COUNT (all its filters together), after each filter passed. */
export type RejectReqHook = (filters: readonly Filter[], conn: ConnectionInfo) => Verdict;

/**
 * When the relay sends its NIP-42 challenge and what needs AUTH:
 * - `on-connect`: the challenge on connect; private kinds need AUTH to be read;
 * - `on-demand`: no challenge until something needs AUTH, then right before the `auth-required:` refusal (strfry);
 * - `required`: the challenge on connect, and every REQ, COUNT and EVENT needs AUTH first (NIP-11 `auth_required`);
 * - `off`: no NIP-42 at all; private kinds are served to anyone, like a relay that never heard of AUTH.
 */
export type AuthMode = 'on-connect' | 'on-demand' | 'required' | 'off';

/**
 * How a read of private kinds by someone not authenticated is answered:
 * - undefined (default): a filter naming a private kind is refused (`CLOSED auth-required:`);
 * - `mixed`: strfry's rule: refused only when every filter names private kinds only; otherwise accepted and the
 *   private events withheld without a word, stored and live;
 * - `all`: never refused; private events are silently withheld from whoever may not read them.
 */
export type WithholdMode = 'mixed' | 'all';

/** Runs after an event was committed to storage (not for ephemeral events). */
export type OnEventSavedHook = (event: NostrEvent) => void;

/** Runs after an ephemeral event was accepted and delivered. */
export type OnEphemeralEventHook = (event: NostrEvent) => void;

/** One structured log record (the same shape as src/util/logger's LogRecord). */
export interface RelayLogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  ns: string;
  msg: string;
  [field: string]: unknown;
}

/** Where the relay logs; the project's Logger fits. */
export interface RelayLogger {
  log(record: RelayLogRecord): void;
}

/** Runs after every OK the relay sends (accepted or not, with its message): metrics, audit logs. */
export type OnOkHook = (accepted: boolean, message: string) => void;

/** Runs after every CLOSED the relay sends on its own (a refused or ended subscription). */
export type OnClosedHook = (message: string) => void;

/** Runs after a REQ's stored events and EOSE went out: how long it took (ms) and how many events. */
export type OnReqServedHook = (ms: number, events: number) => void;
