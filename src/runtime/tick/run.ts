/**
 * Phase 3, run: the agent is woken, its behavior runs under the tick's abort with every effect
 * buffered in a TickState, and the outcome is settled: rolled back (the engine aborted: nothing is
 * recorded, the trigger stays pending), failed (a throw or a timeout: a failure record), or ran
 * (its buffered effects go to the commit phase). Nothing here writes to storage.
 */
import type { UsageDelta } from '../../storage/types.js';
import type { TrajectoryStep } from '../../trajectory/types.js';
import { capabilitiesOf } from '../agent-config.js';
import { agentInfo, type LiveAgent } from '../agent.js';
import { matchApproval, type ApprovalMatch } from '../approvals.js';
import { budgetView } from '../budget.js';
import { createTickContext, type TickState } from '../context.js';
import { matchDelegation, type DelegationMatch } from '../delegation.js';
import { log } from '../env.js';
import { describeError } from '../errors.js';
import type { FailureInput } from '../failure.js';
import { TickBuffer } from '../tick-buffer.js';
import type { TickContext } from '../types.js';
import { isPermanent } from '../../util/errors.js';
import { abortedByHost, armAbort, untilAborted } from './abort.js';
import { dispatch } from './dispatch.js';
import type { Ledger } from './gate.js';
import type { RunHost } from './host.js';
import type { PreparedTick } from './prepare.js';

/** A behavior run that finished without throwing: what the commit phase needs. */
export interface Ran {
  live: LiveAgent;
  state: TickState;
  usage: UsageDelta;
  tokens: { input: number; output: number };
}

export type RunResult = { type: 'rolled-back' } | { type: 'failed'; failure: FailureInput } | { type: 'ran'; ran: Ran };

/** The failure record of a tick whose behavior ran (its steps, usage and signer kept). */
export function ranFailure(tick: PreparedTick, ran: Ran, error: unknown, retryable: boolean): FailureInput {
  return { ...tick.base, entry: tick.entry, steps: ran.state.steps, error, retryable, usage: ran.usage, tokens: ran.tokens, live: ran.live };
}

/** A fresh TickState: the buffer reads storage plus this tick's writes and refuses use once the tick is closed. */
function newTickState(host: RunHost, tick: PreparedTick, sender: string | undefined): TickState {
  const { env } = host;
  const { record, config } = tick.base;
  const state: TickState = {
    buffer: new TickBuffer(env.storage, tick.index, {
      storedBytes: record.storageBytes,
      ...(config.budget.storageBytes !== undefined ? { limitBytes: config.budget.storageBytes } : {}),
      ...(sender ? { defaultPeer: sender } : {}),
      now: () => env.clock.now(),
      assertOpen: () => {
        if (state.closed) throw new Error('this tick is over: its context can no longer be used');
      },
    }),
    intents: [],
    schedules: [],
    steps: [],
    llm: { calls: 0, input: 0, output: 0 },
    sats: 0,
    closed: false,
  };
  return state;
}

/** What the context is built over, besides the prepared tick. */
interface ContextParts {
  live: LiveAgent;
  state: TickState;
  signal: AbortSignal;
  record: (step: TrajectoryStep) => void;
  approval?: ApprovalMatch;
  delegation?: DelegationMatch;
}

/**
 * The behavior's TickContext over this tick's state: its budget view is the ledger read at the
 * gate plus what the tick has used so far; an approval or delegation outcome answers its origin.
 */
function tickContext(host: RunHost, tick: PreparedTick, ledger: Ledger, parts: ContextParts): TickContext {
  const { env } = host;
  const { index, parsed, base } = tick;
  const { record, config, startedAt } = base;
  const { live, state, approval, delegation } = parts;
  const { day, usedBefore } = ledger;
  return createTickContext({
    agent: agentInfo(record, env.ownerPubkey),
    trigger: parsed.trigger,
    signal: parts.signal,
    state,
    now: () => env.clock.now(),
    budget: () => {
      const u = usedBefore;
      const used = { computeMs: u.computeMs + (env.clock.now() - startedAt), llmCalls: u.llmCalls + state.llm.calls, tokens: u.tokens + state.llm.input + state.llm.output, sats: u.sats + state.sats };
      return budgetView(day, used, config.budget, record.storageBytes + state.buffer.bytesDelta);
    },
    ...(live.think ? { think: live.think } : {}),
    ...(live.mcp ? { mcp: live.mcp } : {}),
    log: (msg, fields) => log(env, 'info', msg, { agent: record.pubkey, ...fields }),
    record: parts.record,
    storedSchedule: {
      byKey: async (key) => (await env.storage.schedules.getByKey(index, key)) !== undefined,
      byId: async (id) => (await env.storage.schedules.get(id))?.agentIndex === index,
    },
    capabilities: capabilitiesOf(config),
    autonomy: config.autonomy,
    llm: { ...(config.llm?.system !== undefined ? { system: config.llm.system } : {}), contextTokens: config.llm?.contextTokens ?? 4000 },
    resolveAgent: async (name) => {
      const other = await env.storage.agents.get(name);
      return other && other.state !== 'terminated' && other.name === name ? { pubkey: other.pubkey, name: other.name } : undefined;
    },
    ...(delegation && delegation.type !== 'stale' ? { origin: delegation.record.origin } : {}),
    ...(approval && (approval.type === 'decision' || approval.type === 'timeout') ? { origin: approval.record.origin } : {}),
  });
}

/** Wakes the agent and runs its behavior for the trigger; never commits. */
export async function run(host: RunHost, tick: PreparedTick, ledger: Ledger): Promise<RunResult> {
  const { env } = host;
  const { entry, parsed, base } = tick;
  const { record, config, startedAt } = base;
  let live: LiveAgent;
  try {
    live = await host.live.wake(record, config);
  } catch (error) {
    return { type: 'failed', failure: { ...base, entry, steps: [], error, retryable: false } };
  }
  const abort = armAbort(env.clock, host.signal, config.budget.maxTickMs);
  // Let observers (the control API's event stream) see `tick.started` before the tick's synchronous work runs.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const sender = parsed.trigger.type === 'dm' || parsed.trigger.type === 'mention' || parsed.trigger.type === 'manual' ? parsed.trigger.message.sender : undefined;
  const state = newTickState(host, tick, sender);
  const recordStep = (step: TrajectoryStep): void => {
    state.steps.push(step);
    env.events.emit({ type: 'tick.step', agent: record.pubkey, at: env.clock.now(), step });
  };
  let delegation: DelegationMatch | undefined;
  let approval: ApprovalMatch | undefined;
  try {
    approval = parsed.action === 'create' ? undefined : await matchApproval(state.buffer, parsed.trigger, parsed.approval);
    delegation = parsed.action === 'create' || approval ? undefined : await matchDelegation(state.buffer, parsed.trigger);
  } catch (error) {
    // The behavior never ran: its timeout and the engine listener go now, not at the tick's deadline.
    abort.disarm();
    return { type: 'failed', failure: { ...base, entry, steps: [], error, retryable: true } };
  }
  const ctx = tickContext(host, tick, ledger, { live, state, signal: abort.signal, record: recordStep, ...(approval ? { approval } : {}), ...(delegation ? { delegation } : {}) });
  recordStep({ type: 'perceive', name: parsed.trigger.type, at: startedAt, ms: env.clock.now() - startedAt, detail: { ...(sender ? { from: sender } : {}), ...(parsed.action ? { action: parsed.action } : {}) } });

  let failure: unknown;
  try {
    await untilAborted(abort.signal, () =>
      dispatch({ ctx, behavior: live.behavior, parsed, state, wakePending: live.wakePending, ...(approval ? { approval } : {}), ...(delegation ? { delegation } : {}) }),
    );
  } catch (error) {
    failure = error;
  } finally {
    abort.disarm();
  }
  // A stop or a terminate mid-tick: roll back everything, the trigger stays as it was.
  if (abortedByHost(abort.signal)) {
    state.closed = true;
    log(env, 'info', 'tick rolled back', { agent: record.pubkey, inbox: entry.id, reason: describeError(abort.signal.reason) });
    return { type: 'rolled-back' };
  }
  if (abort.signal.aborted) failure = abort.signal.reason;
  state.closed = true;
  const usage = { computeMs: env.clock.now() - startedAt, llmCalls: state.llm.calls, tokens: state.llm.input + state.llm.output, sats: state.sats };
  const tokens = { input: state.llm.input, output: state.llm.output };
  const ran: Ran = { live, state, usage, tokens };
  if (failure !== undefined) return { type: 'failed', failure: ranFailure(tick, ran, failure, !isPermanent(failure)) };
  return { type: 'ran', ran };
}
