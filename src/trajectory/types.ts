/**
 * What one tick did, as recorded locally (committed with the tick) and later published as a
 * signed, chained trajectory event. The runtime produces these; src/trajectory formats, redacts,
 * encrypts, chains and verifies them.
 */

/** The step kinds a tick can record. */
export type StepType = 'perceive' | 'think' | 'tool' | 'message' | 'state' | 'error';

/** One timed step. `at` is ms since epoch when it started; `ms` its duration. Extra fields per type. */
export interface TrajectoryStep {
  type: StepType;
  at: number;
  ms: number;
  /** e.g. tool name, message recipient, state key; free-form but never secrets. */
  name?: string;
  detail?: Record<string, unknown>;
  tokens?: { input: number; output: number };
}

/** What woke the tick. `eventId` is set when the trigger was a Nostr event (DM wrap id, mention id). */
export interface TrajectoryTrigger {
  type: 'dm' | 'mention' | 'alarm' | 'event' | 'manual';
  eventId?: string;
  from?: string;
  /** The message text, when there was one. Redacted/hashed/encrypted before publishing. */
  text?: string;
  at: number;
}

/** How the tick ended. */
export type TickOutcome = 'ok' | 'error' | 'aborted' | 'refused';

/** A complete tick record. `seq` counts an agent's ticks from 1 without gaps. */
export interface TickRecord {
  agentPubkey: string;
  seq: number;
  startedAt: number;
  endedAt: number;
  trigger: TrajectoryTrigger;
  steps: TrajectoryStep[];
  tokens: { input: number; output: number };
  budget: { computeMs: number; llmCalls: number; tokens: number };
  outcome: TickOutcome;
  error?: string;
  /** Ids of the events the tick queued in the outbox. */
  sentEventIds: string[];
}

/** Who can read an agent's tick events: `private` (NIP-44 to the owner, the default) or `public` (plaintext). */
export type TrajectoryVisibility = 'public' | 'private';

/** The open session (one per agent per UTC day) as the chain carries it from tick to tick. */
export interface TrajectorySessionState {
  /** The `d` tag: the UTC day `YYYY-MM-DD` of the session's ticks. */
  d: string;
  firstSeq: number;
  /** Tick events in the session so far. */
  ticks: number;
  /** The running `trajectory_hash` over those ticks (see session.ts). */
  hash: string;
  /** Unix seconds: the first tick's start and the last tick's end. */
  startedAt: number;
  endedAt: number;
  /** `created_at` of the session event last signed; the next one must be later so relays replace it. */
  createdAt: number;
}

/**
 * What the runtime stores per agent between ticks (JSON, e.g. in its kv) and hands back for the
 * next tick: the previous tick event's id and seq, and the open session. Committed in the same
 * transaction as the tick, so the chain never forks on a crash.
 */
export interface TrajectoryChain {
  lastId: string | null;
  lastSeq: number;
  session: TrajectorySessionState | null;
}

/** How a trajectory can break, as verify names it. */
export type TrajectoryBreakKind =
  | 'signature' // the signature does not verify
  | 'tampered' // the id no longer matches the event (edited after signing)
  | 'forged' // validly signed, but by another key than the agent's
  | 'tags' // malformed seq / prev / a / visibility tags
  | 'content' // undecryptable with the owner's key, not JSON, or not the tick schema
  | 'missing' // a tick some other event points to was not found
  | 'fork' // two ticks with the same prev, or two first ticks
  | 'seq' // seq not 1 at the start, not +1 along the chain, or used twice
  | 'session' // a session event is missing or malformed, or a tick does not fit its session
  | 'hash'; // a session's trajectory_hash does not match its ticks

/** One break: where (seq, event id) and how, in a sentence a person can act on. */
export interface TrajectoryBreak {
  kind: TrajectoryBreakKind;
  message: string;
  seq?: number;
  eventId?: string;
}

/** The outcome of verifying an agent's trajectory. `ticks` counts the agent's tick events found. */
export type VerifyReport =
  | { ok: true; ticks: number; sessions: number; headId: string | null; unsealed: number; locked: number }
  | { ok: false; ticks: number; sessions: number; breaks: TrajectoryBreak[] };
