/**
 * One tick: WAKE → LOAD → PERCEIVE → THINK/ACT (the behavior, effects buffered) → REMEMBER
 * (one commit) → SCHEDULE → SLEEP. The behavior runs under an AbortSignal that fires at the
 * agent's max tick duration or when the runtime stops; an aborted or failed tick commits none of
 * its effects, only its TickRecord and what happens to its trigger (retry later, or failed).
 *
 * runTick only orders the phases (tick/): prepare (agent row, config, trigger) → gate (owner
 * command, refusals, budget) → run (the behavior under its abort) → commit (the one transaction)
 * → finish (post-commit effects and events). Each phase returns what happened instead of acting
 * on it, so the paths a trigger can take (failed, refused, control, rolled back, dropped) are
 * all decided here, and each phase takes only the slice of the host it needs (tick/host.ts).
 */
import type { AgentRecord, InboxEntry } from '../storage/types.js';
import { runControlTick } from './control.js';
import { finishFailure } from './failure.js';
import { commit } from './tick/commit.js';
import { finish } from './tick/finish.js';
import { gate } from './tick/gate.js';
import type { TickHost } from './tick/host.js';
import { prepare } from './tick/prepare.js';
import { refuse } from './tick/refuse.js';
import { run } from './tick/run.js';

export type { TickHost } from './tick/host.js';

/**
 * What the engine's wake loop must do once the tick is over: `replan` (alarms may have changed, or
 * an agent came into memory whose idle time the loop must plan for) or nothing (`quiet`: a tick
 * of an agent already in memory that set or cancelled no alarm, the common DM answer).
 */
export type TickEnd = 'replan' | 'quiet';

/**
 * Runs the tick for one pending inbox row of agent `index`. Never throws. `record` is the agent row
 * the engine read as it picked the row (read again when absent); the commit checks the lease and
 * the trigger's state inside its transaction whatever this copy says.
 */
export async function runTick(host: TickHost, index: number, entry: InboxEntry, record?: AgentRecord): Promise<TickEnd> {
  return (await phases(host, index, entry, record)) ?? 'replan';
}

async function phases(host: TickHost, index: number, entry: InboxEntry, record: AgentRecord | undefined): Promise<TickEnd | void> {
  const prepared = await prepare(host, index, entry, record);
  if (prepared.type === 'gone') return;
  if (prepared.type === 'failed') return finishFailure(host, prepared.failure);
  const { tick } = prepared;

  const gated = await gate(host, tick);
  if (gated.type === 'waits') return;
  if (gated.type === 'control') return runControlTick(host, gated.control);
  if (gated.type === 'refused') return refuse(host, { ...tick.base, entry, reason: gated.reason, intents: gated.intents });
  if (gated.type === 'failed') return finishFailure(host, gated.failure);

  const ran = await run(host, tick, gated.ledger);
  if (ran.type === 'rolled-back') return;
  if (ran.type === 'failed') return finishFailure(host, ran.failure);

  const committed = await commit(host, tick, ran.ran);
  if (committed.type === 'dropped') return;
  if (committed.type === 'failed') return finishFailure(host, committed.failure);
  // Read before finish spends onWake: still pending means the agent came into memory for this tick.
  const quiet = ran.ran.state.schedules.length === 0 && !ran.ran.live.wakePending;
  finish(host, tick, ran.ran, committed.committed);
  return quiet ? 'quiet' : 'replan';
}
