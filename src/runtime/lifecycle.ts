/**
 * The agent lifecycle as a table of allowed transitions, so every state change in the engine goes
 * through one check: creating → active ⇄ dormant; active → failed → active (recover);
 * active/dormant ⇄ paused (owner pause); any → terminated.
 */
import type { AgentState } from '../storage/types.js';
import { AgentStateError } from './errors.js';

/** Every state an agent can be in (`dormant` = hibernated: state in SQLite only); defined once, with the stored rows. */
export type { AgentState };

/** All states, for schemas and listings. */
export const AGENT_STATES: readonly AgentState[] = ['creating', 'active', 'dormant', 'paused', 'failed', 'terminated'];

const ALLOWED: Record<AgentState, readonly AgentState[]> = {
  creating: ['active', 'failed', 'terminated'],
  active: ['dormant', 'paused', 'failed', 'terminated'],
  dormant: ['active', 'paused', 'terminated'],
  paused: ['active', 'dormant', 'terminated'],
  failed: ['active', 'terminated'],
  terminated: [],
};

/** True when `from → to` is a legal lifecycle step (a state to itself is always allowed). */
export function canTransition(from: AgentState, to: AgentState): boolean {
  return from === to || ALLOWED[from].includes(to);
}

/** Throws AgentStateError naming both states when `from → to` is not allowed. */
export function assertTransition(agent: string, from: AgentState, to: AgentState): void {
  if (!canTransition(from, to)) throw new AgentStateError(agent, from, to);
}

/** States in which triggers run ticks. Paused agents keep their triggers queued; failed and terminated do not run. */
export function runsTicks(state: AgentState): boolean {
  return state === 'active' || state === 'dormant' || state === 'creating';
}

/** True for a parsed string that names a state (for untrusted input: CLI flags, control API). */
export function isAgentState(value: string): value is AgentState {
  return (AGENT_STATES as readonly string[]).includes(value);
}
