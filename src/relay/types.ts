/**
 * The messaging seams: the RelayPool (sockets behind one small interface), the messages the receiver
 * hands to the runtime, the sink the runtime provides, and what the outbox publisher reports.
 * The runtime depends on these types only; the implementations live beside this file.
 */
import type { NostrEvent } from '../protocol/event.js';
import type { Filter } from '../protocol/filter.js';
import type { OutboxTarget, RelayPublishResult } from '../storage/types.js';
import type { BreakerSnapshot } from './breaker.js';

export type { OutboxTarget, RelayPublishResult } from '../storage/types.js';

/** Connection state of one relay, honestly: `connected` only once the socket is open. */
export type RelayState = 'connecting' | 'connected' | 'disconnected' | 'closed';

/** What the pool knows about one relay right now. */
export interface RelayStatus {
  url: string;
  state: RelayState;
  /** Consecutive failed connection attempts since the last successful open. */
  attempts: number;
  /** ms epoch of the last successful open. */
  connectedAt?: number;
  /** Why the last connection ended or failed. */
  lastError?: string;
  /** Pubkeys the relay has accepted a NIP-42 AUTH for on the current connection. */
  authenticated: string[];
  /** How many keys the relay accepts per connection, once it has refused one beside another (strfry: 1). */
  authKeyLimit?: number;
  /** Its circuit breaker (closed, open until `retryAt`, or half-open), with a health score. */
  breaker?: BreakerSnapshot;
}

/** One item of a `req` stream: an event (with the relay it came from) or end-of-stored-events. */
export type ReqItem = { type: 'event'; event: NostrEvent; relay: string } | { type: 'eose' };

/** Options of `RelayPool.req`. */
export interface ReqOptions {
  /** Relays to ask; default every relay in the pool. */
  relays?: string[];
  /** Ends the stream after every relay has sent EOSE (or closed). Default false (stays live). */
  closeOnEose?: boolean;
  signal?: AbortSignal;
  /** See `SubscriptionHandlers.signatureNeeded`: false skips an event's Schnorr check (its id is still checked). */
  signatureNeeded?: (event: NostrEvent) => boolean;
}

/** Options of `RelayPool.publish`. */
export interface PublishOptions {
  /** Relays to publish to; default every relay in the pool. */
  relays?: string[];
  /** How long to wait for each relay's OK (ms). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The RelayPool seam (ARCHITECTURE.md): many relays behind one subscription and publish API. */
export interface RelayPool {
  /** Events matching `filters` from every relay, deduplicated by id, with one `eose` after all relays' EOSE. */
  req(filters: Filter[], options?: ReqOptions): AsyncIterable<ReqItem>;
  /** Each relay's real OK answer; a relay that is not connected answers `ok: false`, never "sent". */
  publish(event: NostrEvent, options?: PublishOptions): Promise<RelayPublishResult[]>;
  /** The relays the pool knows, with their state. */
  status(): RelayStatus[];
  /** Closes every socket; pending publishes answer `ok: false`. */
  close(): Promise<void>;
}

/** Which wire protocol an inbound message came by (decides how the reply is built). */
export type InboundProtocol = 'nip17' | 'nip04' | 'note';

/** What the reply needs to thread correctly. */
export interface ReplyContext {
  /** NIP-17: the parent rumor's id; NIP-04 / note: the parent event's id. */
  parentId: string;
  /** NIP-17: the rumor's participants (its author and `p` tags) minus the agent. Notes: every `p` of the thread. */
  participants: string[];
  /** Notes (NIP-10): the thread root, when the parent was itself a reply. */
  rootId?: string;
  /** Relay hint for `e` tags. */
  relay?: string;
  /** Notes: the parent event's id, author and tags (NIP-10 threading needs its `e`/`p` tags). */
  parentEvent?: Pick<NostrEvent, 'id' | 'pubkey' | 'kind' | 'tags'>;
}

/** NIP-17 kind 15 file metadata, kept with the message. */
export interface FileAttachment {
  url: string;
  mimeType?: string;
  encryptionAlgorithm?: string;
  decryptionKey?: string;
  decryptionNonce?: string;
  sha256?: string;
  size?: number;
  dim?: string;
}

/** A message addressed to a hosted agent, already decrypted, authenticated and deduplicated. */
export interface InboundMessage {
  kind: 'dm' | 'mention';
  protocol: InboundProtocol;
  /** The hosted agent it is for. */
  agentPubkey: string;
  /** The authenticated author (seal pubkey for NIP-17). */
  sender: string;
  text: string;
  /** The outer event's id (the gift wrap's for NIP-17): the dedupe key of the inbox row. */
  eventId: string;
  /** NIP-17: the rumor's id. */
  rumorId?: string;
  /**
   * The message this one answers: its `e` tag (NIP-10: the `reply` marker, the `root` when that is the
   * only marker, else the last `e`). NIP-17: a rumor id; NIP-04 / notes: an event id.
   */
  inReplyTo?: string;
  subject?: string;
  replyTo: ReplyContext;
  files?: FileAttachment[];
  /**
   * Set (with `text` empty) when the message was too large to read: its sender is known (the event is
   * signed) and gets a short "too long" notice instead of silence.
   */
  tooLarge?: { chars: number; limit: number };
  /** Unix seconds: the rumor's (NIP-17) or the event's own `created_at`. */
  createdAt: number;
  /** The relay it was first received from. */
  relay: string;
}

/** The processed record the receiver asks a sink to write with the message (see MessageSink). */
export interface ProcessedMark {
  eventId: string;
  outcome: string;
}

/** What the receiver passes a sink besides the message. */
export interface SinkOptions {
  signal?: AbortSignal;
  /** Given with the last message of an event: write this mark in the transaction that records the message. */
  mark?: ProcessedMark;
}

/**
 * What the runtime provides the receiver: record the message durably (idempotent by
 * (agentPubkey, eventId)). Resolving `true` says the sink wrote `options.mark` in the same
 * transaction as its record (one commit per DM, and no crash can leave one without the other);
 * otherwise the receiver marks the event processed once the sink resolves. When it rejects, the
 * event stays unprocessed and is seen again on the next catch-up.
 */
export type MessageSink = (message: InboundMessage, options?: SinkOptions) => Promise<boolean | void>;

/** Why an inbound event was dropped; each is counted and logged at debug, never acted on. */
export type RejectReason =
  | 'wrong-recipient'
  | 'decrypt-failed'
  | 'malformed-seal'
  | 'bad-seal-signature'
  | 'seal-rumor-mismatch'
  | 'malformed-rumor'
  | 'unsupported-rumor-kind'
  | 'own-message'
  | 'not-addressed';

/** Counters exposed by the receiver (and the connection for wire-level drops). */
export interface ReceiverCounters {
  received: number;
  delivered: number;
  duplicates: number;
  sinkFailures: number;
  rejected: Record<RejectReason, number>;
}

/** An outgoing event and where it must go: the unit the outbox stores. */
export interface OutgoingEvent {
  event: NostrEvent;
  target: OutboxTarget;
}

/** A pubkey's published relay preferences (NIP-65 10002 and NIP-17 10050). */
export interface RelayLists {
  /** 10050 `relay` tags; undefined when none is published. */
  dm?: string[];
  /** 10002 read relays (`r` without marker or with `read`). */
  read?: string[];
  /** 10002 write relays. */
  write?: string[];
}

/** Looks up (and caches) a pubkey's relay lists. */
export interface RelayListResolver {
  get(pubkey: string, options?: { signal?: AbortSignal }): Promise<RelayLists>;
}

/** What every outbox report says of its row: which one, whose, what kind of event, queued when (ms). */
interface OutboxReportBase {
  outboxId: number;
  agentPubkey: string;
  eventId: string;
  kind: number;
  createdAt: number;
}

/** What the outbox publisher tells the daemon after each attempt. */
export type OutboxReport =
  | (OutboxReportBase & { type: 'delivered'; accepted: string[]; results: RelayPublishResult[] })
  | (OutboxReportBase & { type: 'retry'; results: RelayPublishResult[]; nextAttemptAt: number })
  | (OutboxReportBase & { type: 'failed'; reason: string; results: RelayPublishResult[] });
