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
