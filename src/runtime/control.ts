/**
 * Owner commands sent by DM (`/pause`, `/resume`, `/status`, `/budget`): accepted only when the
 * sender is the owner's key (decided on arrival), run even while the agent is paused, failed or
 * out of budget, and committed like any tick: the reply, the TickRecord and the state change
 * land in one transaction.
 */
import type { InboundMessage } from '../relay/types.js';
import type { AgentRecord, InboxEntry, NewMessage } from '../storage/types.js';
import type { TrajectoryTrigger } from '../trajectory/types.js';
import type { AgentConfig } from './agent-config.js';
import { budgetView, formatBudget, utcDay } from './budget.js';
import { commitTick, type CommitParams } from './commit.js';
import { log } from './env.js';
import { describeError } from './errors.js';
import { emitCommitted } from './failure.js';
import { canTransition, type AgentState } from './lifecycle.js';
import { stateCommandText, statusText } from './owner-commands.js';
import type { OwnerCommand } from './policy.js';
import type { TickHost } from './tick/host.js';

/** An owner command row to run. */
export interface ControlInput {
  record: AgentRecord;
  config: AgentConfig;
  entry: InboxEntry;
  startedAt: number;
  trigger: TrajectoryTrigger;
  inbound?: NewMessage;
  command: OwnerCommand;
  /** The owner's DM, answered by the same protocol. */
  message: InboundMessage;
}

/** The state an owner command moves to, if any: pause from running states; resume from paused or failed. */
export function commandTarget(command: OwnerCommand, state: AgentState): AgentState | undefined {
  if (command === 'pause' && (state === 'active' || state === 'dormant') && canTransition(state, 'paused')) return 'paused';
  if (command === 'resume' && (state === 'paused' || state === 'failed')) return 'active';
  return undefined;
}

/** The /status facts for an agent. */
export async function statusFor(host: TickHost, record: AgentRecord, config: AgentConfig, answering?: number): Promise<string> {
  const { storage, clock } = host.env;
  const day = utcDay(clock.now());
  const schedules = await storage.schedules.list(record.index);
  const pending = await storage.inbox.pending(record.index);
  const usage = await storage.budget.get(record.index, day);
  const next = schedules.reduce<number | undefined>((min, s) => (min === undefined || s.nextAt < min ? s.nextAt : min), undefined);
  return statusText(record, {
    pendingTriggers: pending.filter((e) => e.id !== answering).length,
    alarms: schedules.length,
    ...(next !== undefined ? { nextAlarmAt: next } : {}),
    llmConfigured: host.live.get(record.index)?.think !== undefined || host.env.thinkFor?.(record, config) !== undefined,
    budget: budgetView(day, usage, config.budget, record.storageBytes),
  });
}

/** Runs one owner command as a tick. Never throws. */
export async function runControlTick(host: TickHost, c: ControlInput): Promise<void> {
  const { env } = host;
  const to = commandTarget(c.command, c.record.state);
  let text: string;
  if (c.command === 'status') text = await statusFor(host, c.record, c.config, c.entry.id);
  else if (c.command === 'budget') {
    const day = utcDay(env.clock.now());
    text = formatBudget(budgetView(day, await env.storage.budget.get(c.record.index, day), c.config.budget, c.record.storageBytes));
  } else text = stateCommandText(c.command, c.record.state, to ?? c.record.state);
  const params: CommitParams = {
    record: c.record,
    config: c.config,
    signer: host.live.get(c.record.index)?.signer ?? env.signerFor(c.record.index),
    startedAt: c.startedAt,
    trigger: c.trigger,
    steps: [{ type: 'perceive', name: 'owner-command', at: c.startedAt, ms: 0, detail: { command: c.command } }],
    intents: [{ type: 'reply', to: c.message, text }],
    outcome: 'ok',
    ...(c.inbound ? { inbound: c.inbound } : {}),
    usage: {},
    inbox: { id: c.entry.id, status: 'done' },
    // Resuming a failed agent resets its consecutive-failure count.
    ...(to === 'active' && c.record.state === 'failed' ? { result: { ok: true } } : {}),
    ...(to ? { state: { to } } : {}),
  };
  let committed;
  try {
    committed = await commitTick(env, params);
  } catch (error) {
    log(env, 'error', 'owner command failed', { agent: c.record.pubkey, command: c.command, error: describeError(error) });
    host.retryAt(c.record.index, env.clock.now() + env.retryBaseMs);
    return;
  }
  emitCommitted(env, c.record, committed);
  if (to === 'paused') await host.live.drop(c.record.index, { keepState: true });
  if (to === 'active') {
    try {
      host.live.load(committed.record, c.config);
    } catch (error) {
      log(env, 'warn', 'resumed agent could not be loaded yet', { agent: c.record.pubkey, error: describeError(error) });
    }
  }
}
