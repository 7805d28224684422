/** Storage types of the messaging layer: outbox rows and targets, processed events, relay cursors. */
import type { NostrEvent } from '../protocol/event.js';
import type { HolderFilter } from './runtime-types.js';

/**
 * Where an outbox event goes: `dm` → the recipient's DM relays (10050) plus the agent's own write
 * relays; `relays` → exactly these URLs; `own` → the agent's write relays.
 */
export type OutboxTarget =
  | { type: 'dm'; recipient: string }
  | { type: 'relays'; relays: string[] }
  | { type: 'own' };

/** An outbox row's lifecycle: pending until a relay says OK (delivered) or the deadline passes (failed). */
export type OutboxStatus = 'pending' | 'delivered' | 'failed';

/** One relay's answer to a publish attempt (`ok` true includes `duplicate:`). */
export interface RelayPublishResult {
  relay: string;
  ok: boolean;
  message: string;
}

/** One outbox row. Times are ms since the epoch. */
export interface OutboxEntry {
  id: number;
  agentPubkey: string;
  eventId: string;
  /** The signed event exactly as it goes on the wire. */
  event: NostrEvent;
  target: OutboxTarget;
  /** Which of the sender's lanes the row travels in (see `OutboxLane`). */
  lane: OutboxLane;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  /** Give-up time: past it, the sender marks the row failed. */
  deadlineAt: number;
  lastAttemptAt?: number;
  /** Relay URLs that answered OK at any attempt (accumulated). */
  accepted: string[];
  /** The last attempt's per-relay results. */
  results: RelayPublishResult[];
  lastError?: string;
  deliveredAt?: number;
}

/** What `enqueueOutbox` needs. */
export interface OutboxEnqueue {
  agentPubkey: string;
  event: NostrEvent;
  target: OutboxTarget;
  /** ms; also the first attempt time unless `nextAttemptAt` is given. */
  now: number;
  deadlineAt: number;
  nextAttemptAt?: number;
  /** Default from the target: `own` → background, any other → conversation. Profiles and relay lists go as background. */
  lane?: OutboxLane;
}

/** What one publish attempt produced. `nextAttemptAt` is clamped to the row's deadline. */
export interface OutboxAttempt {
  results: RelayPublishResult[];
  accepted: string[];
  nextAttemptAt: number;
  now: number;
}

/**
 * The sender's two lanes, stored with each row (from its target): `conversation` rows (a DM or a
 * reply to someone else: somebody waits for them) are picked ahead of `background` rows (`own`
 * target: the agent's own copies, trajectory, session and snapshot events; and profiles, queued so).
 */
export type OutboxLane = 'conversation' | 'background';

/** What `due` can narrow to. */
export interface OutboxDueFilter extends HolderFilter {
  /** Only this lane's rows (both when absent). */
  lane?: OutboxLane;
  /** Row ids left out: the sender's rows already in flight, so none is picked twice. */
  exclude?: readonly number[];
}

/** One finished publish attempt as the sender records it: the attempt, and whether it ended the row. */
export interface OutboxSettlement {
  id: number;
  attempt: OutboxAttempt;
  /** `delivered` only after a relay said OK; absent: the row stays pending for its next attempt. */
  finish?: { status: 'delivered' } | { status: 'failed'; reason: string };
}

/** What the messaging layer's sender needs from storage (the outbox part of the seam). */
export interface OutboxStore {
  enqueue(entry: OutboxEnqueue): Promise<number>;
  /**
   * Queues several events as `enqueue` does each (idempotent by event id), all or none; ids in input
   * order. One statement on PostgreSQL, where a row per call is a statement each (a snapshot's chunks).
   */
  enqueueMany(entries: readonly OutboxEnqueue[]): Promise<number[]>;
  /**
   * Pending rows due at `now`. With `holder`, only rows of agents that daemon holds (and rows signed
   * by no agent, e.g. the owner's): the outbox delivery's lease check, made in the selecting statement.
   */
  due(now: number, limit: number, options?: OutboxDueFilter): Promise<OutboxEntry[]>;
  nextDue(options?: HolderFilter): Promise<number | undefined>;
  recordAttempt(id: number, attempt: OutboxAttempt): Promise<void>;
  markDelivered(id: number, now: number): Promise<void>;
  markFailed(id: number, reason: string, now: number): Promise<void>;
  /**
   * Records many settled attempts in one transaction (each as `recordAttempt` then, with `finish`,
   * `markDelivered` / `markFailed`): all of them or none, so a crash leaves every row as it was.
   */
  settle(settlements: readonly OutboxSettlement[]): Promise<void>;
  get(id: number): Promise<OutboxEntry | undefined>;
  getByEventId(eventId: string): Promise<OutboxEntry | undefined>;
  list(filter?: { agentPubkey?: string; status?: OutboxStatus; limit?: number }): Promise<OutboxEntry[]>;
  prune(olderThan: number): Promise<number>;
  /** Rows not delivered (pending and failed) per agent (metrics). */
  counts(): Promise<Array<{ agentPubkey: string; status: Exclude<OutboxStatus, 'delivered'>; count: number }>>;
}

/** Processed-event records (replay protection). */
export interface ProcessedStore {
  isProcessed(eventId: string): Promise<boolean>;
  /** Idempotent; true when newly recorded. */
  markProcessed(eventId: string, outcome: string, now: number): Promise<boolean>;
  prune(olderThan: number): Promise<number>;
}

/** Per-relay subscription cursors (unix seconds, monotonic). */
export interface CursorStore {
  get(relay: string): Promise<number | undefined>;
  set(relay: string, cursor: number): Promise<void>;
  list(): Promise<Array<{ relay: string; cursor: number }>>;
}


/**
 * Each agent's trajectory chain head (the last published tick event's id, seq and session state),
 * kept apart from the agent's kv so the agent's own code cannot rewrite its chain. Opaque JSON here:
 * the trajectory layer parses it.
 */
export interface ChainHeadStore {
  get(agentIndex: number): Promise<unknown>;
  set(agentIndex: number, head: unknown): Promise<void>;
}
