/**
 * The AgentStorage seam: everything the runtime and the messaging layer persist. The SQLite
 * implementation lives in ./sqlite; callers depend on these types only.
 */
import type { NostrEvent } from '../protocol/event.js';

// ---------------------------------------------------------------------------------------------
// Messaging: outbox, processed events, relay cursors
// ---------------------------------------------------------------------------------------------

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
}

/** What one publish attempt produced. `nextAttemptAt` is clamped to the row's deadline. */
export interface OutboxAttempt {
  results: RelayPublishResult[];
  accepted: string[];
  nextAttemptAt: number;
  now: number;
}
