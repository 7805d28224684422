/**
 * What the engine lends a tick, and the slice of it each phase may touch. The engine builds one
 * TickHost per tick; the phases take only the members (and env parts) they use, so a phase's
 * signature says what it can reach: prepare and gate only read storage, run wakes the agent and
 * listens to the abort signal, commit and finish write through the env, and only the
 * orchestrator and the failure/refusal/control paths may ask for a retry.
 */
import type { LiveAgents } from '../agent.js';
import type { EngineEnv } from '../env.js';

/** What the engine lends a tick. */
export interface TickHost {
  env: EngineEnv;
  live: LiveAgents;
  /** Aborts the tick with a reason (runtime stopping, agent terminated). */
  signal: AbortSignal;
  /** Asks the engine to look at the agent again at `at` (a deferred retry). */
  retryAt(index: number, at: number): void;
}

/** prepare: reads the agent row, tells observers the tick started. */
export interface PrepareHost {
  env: Pick<EngineEnv, 'clock' | 'storage' | 'ownerPubkey' | 'events'>;
}

/** gate: reads the day's budget ledger. */
export interface GateHost {
  env: Pick<EngineEnv, 'storage'>;
}

/** run: wakes the agent, runs its behavior under the engine's abort signal. */
export interface RunHost {
  env: EngineEnv;
  live: Pick<LiveAgents, 'wake'>;
  signal: AbortSignal;
}

/** commit and finish: the storage transaction and the events after it. */
export interface CommitHost {
  env: EngineEnv;
}

/** A refusal: commits, and on failure asks for a retry; signs with the live signer when there is one. */
export interface RefuseHost {
  env: EngineEnv;
  live: Pick<LiveAgents, 'get'>;
  retryAt(index: number, at: number): void;
}
