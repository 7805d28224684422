/**
 * One tick: WAKE → LOAD → PERCEIVE → THINK/ACT (the behavior, effects buffered) → REMEMBER
 * (one commit) → SCHEDULE → SLEEP. The behavior runs under an AbortSignal that fires at the
 * agent's max tick duration or when the runtime stops; an aborted or failed tick commits none of
 * its effects, only its TickRecord and what happens to its trigger (retry later, or failed).
 */
import type { InboxEntry, NewMessage } from '../storage/types.js';
import type { TrajectoryStep } from '../trajectory/types.js';
import { capabilitiesOf, parseAgentConfig, type AgentConfig } from './agent-config.js';
import { agentInfo, type LiveAgent, type LiveAgents } from './agent.js';
import { budgetView, describeMark, dailyLimits, exhaustedMetric, nextUtcMidnight, utcDay } from './budget.js';
import { commitTick, type CommitParams, type Committed } from './commit.js';
import { createTickContext, type TickState } from './context.js';
import { handleApproval, matchApproval, type ApprovalMatch } from './approvals.js';
import { handleDelegation, matchDelegation, type DelegationMatch } from './delegation.js';
import { runControlTick } from './control.js';
import { log, type EngineEnv } from './env.js';
import { RuntimeStoppingError, TickTimeoutError, describeError } from './errors.js';
import { runsTicks } from './lifecycle.js';
import { slowDownText } from './policy.js';
import { TickBuffer } from './tick-buffer.js';
import { parseTrigger, trajectoryTrigger, type ParsedTrigger } from './triggers.js';
import type { Trigger } from './types.js';
import { finishFailure, emitCommitted, type FailureInput } from './failure.js';
import { InputError, errorCode, isPermanent } from '../util/errors.js';

/** What the engine lends a tick. */
export interface TickHost {
  env: EngineEnv;
  live: LiveAgents;
  /** Aborts the tick with a reason (runtime stopping, agent terminated). */
  signal: AbortSignal;
  /** Asks the engine to look at the agent again at `at` (a deferred retry). */
  retryAt(index: number, at: number): void;
}

function inboundLog(trigger: Trigger, at: number): NewMessage | undefined {
  if (trigger.type !== 'dm' && trigger.type !== 'mention' && trigger.type !== 'manual') return undefined;
  if (!trigger.message.text) return undefined;
  return { peer: trigger.message.sender, direction: 'in', text: trigger.message.text, at, ...(trigger.message.eventId ? { eventId: trigger.message.eventId } : {}) };
}

/** Runs `fn` but settles as soon as `signal` aborts (the behavior may ignore its signal). */
function untilAborted<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    fn().then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Runs the tick for one pending inbox row of agent `index`. Never throws. */
export async function runTick(host: TickHost, index: number, entry: InboxEntry): Promise<void> {
  const { env } = host;
  const startedAt = env.clock.now();
  const record = await env.storage.agents.get(index);
  if (!record || record.state === 'terminated') return;
  let config: AgentConfig;
  let parsed: ParsedTrigger;
  try {
    config = parseAgentConfig({ ...record.config, behavior: record.behavior }, record.name);
  } catch (error) {
    const fallback = parseAgentConfig({ behavior: record.behavior });
    return finishFailure(host, { record, config: fallback, entry, startedAt, trigger: { type: entry.trigger, at: startedAt }, steps: [], error, retryable: false });
  }
  try {
    parsed = parseTrigger(entry, env.ownerPubkey);
  } catch (error) {
    return finishFailure(host, { record, config, entry, startedAt, trigger: { type: entry.trigger, at: startedAt }, steps: [], error, retryable: false });
  }
  const trigger = trajectoryTrigger(parsed.trigger, startedAt);
  env.events.emit({ type: 'tick.started', agent: record.pubkey, at: startedAt, trigger });
  const inbound = inboundLog(parsed.trigger, startedAt);
  const source = parsed.trigger.type === 'dm' || parsed.trigger.type === 'mention' ? parsed.trigger.inbound : undefined;
  const base = { record, config, startedAt, trigger, ...(inbound ? { inbound } : {}), ...(source ? { source } : {}) };

  if (parsed.ownerCommand && parsed.trigger.type === 'dm') return runControlTick(host, { ...base, entry, command: parsed.ownerCommand, message: parsed.trigger.inbound });
  if (!runsTicks(record.state)) return;
  if (parsed.slowDown && (parsed.trigger.type === 'dm' || parsed.trigger.type === 'mention')) {
    const text = slowDownText(parsed.slowDown.retryAfterMs);
    return refuse(host, { ...base, entry, reason: 'rate-limited', intents: [{ type: 'reply', to: parsed.trigger.inbound, text }] });
  }
  // Approving is the owner's alone: anyone else's `/approve` or `/deny` is refused, as a recorded tick.
  if (parsed.approvalRefused) return refuse(host, { ...base, entry, reason: 'approval commands are accepted only from the owner', intents: [] });
  const day = utcDay(startedAt);
  // The day's ledger as the tick starts: only this agent's ticks add to it, one at a time, so the
  // tick's budget view is this plus its own use.
  const usedBefore = await env.storage.budget.get(index, day);
  const exhausted = exhaustedMetric(usedBefore, dailyLimits(config.budget));
  if (exhausted) {
    const reason = `budget exhausted: ${describeMark(exhausted)}; refused until ${new Date(nextUtcMidnight(startedAt)).toISOString()}`;
    return refuse(host, { ...base, entry, reason, intents: [] });
  }

  if (source?.tooLarge) {
    const error = new InputError('INPUT_TOO_LARGE', `a ${source.tooLarge.chars}-character ${source.protocol} payload (at most ${source.tooLarge.limit} are read)`);
    return finishFailure(host, { ...base, entry, steps: [], error, retryable: false });
  }
  let live: LiveAgent;
  try {
    live = await host.live.wake(record, config);
  } catch (error) {
    return finishFailure(host, { ...base, entry, steps: [], error, retryable: false });
  }
  const steps: TrajectoryStep[] = [];
  const controller = new AbortController();
  const timer = new AbortController();
  const onHostAbort = (): void => controller.abort(host.signal.reason ?? new RuntimeStoppingError());
  host.signal.addEventListener('abort', onHostAbort, { once: true });
  if (host.signal.aborted) onHostAbort();
  env.clock.sleep(config.budget.maxTickMs, { signal: timer.signal }).then(
    () => controller.abort(new TickTimeoutError(config.budget.maxTickMs)),
    () => {},
  );
  // Let observers (the control API's event stream) see `tick.started` before the tick's synchronous work runs.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const sender = parsed.trigger.type === 'dm' || parsed.trigger.type === 'mention' || parsed.trigger.type === 'manual' ? parsed.trigger.message.sender : undefined;
  const state: TickState = {
    buffer: new TickBuffer(env.storage, index, {
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
    steps,
    llm: { calls: 0, input: 0, output: 0 },
    sats: 0,
    closed: false,
  };
  const recordStep = (step: TrajectoryStep): void => {
    steps.push(step);
    env.events.emit({ type: 'tick.step', agent: record.pubkey, at: env.clock.now(), step });
  };
  let delegation: DelegationMatch | undefined;
  let approval: ApprovalMatch | undefined;
  try {
    approval = parsed.action === 'create' ? undefined : await matchApproval(state.buffer, parsed.trigger, parsed.approval);
    delegation = parsed.action === 'create' || approval ? undefined : await matchDelegation(state.buffer, parsed.trigger);
  } catch (error) {
    return finishFailure(host, { ...base, entry, steps: [], error, retryable: true });
  }
  const ctx = createTickContext({
    agent: agentInfo(record, env.ownerPubkey),
    trigger: parsed.trigger,
    signal: controller.signal,
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
    record: recordStep,
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
  const behavior = live.behavior;
  const t = parsed.trigger;
  recordStep({ type: 'perceive', name: t.type, at: startedAt, ms: env.clock.now() - startedAt, detail: { ...(sender ? { from: sender } : {}), ...(parsed.action ? { action: parsed.action } : {}) } });

  let failure: unknown;
  try {
    await untilAborted(controller.signal, async () => {
      if (live.wakePending && behavior.onWake) await ctx.step('state', 'wake', () => behavior.onWake?.(ctx));
      if (parsed.action === 'create') {
        await ctx.step('state', 'create', () => behavior.onCreate?.(ctx));
        return;
      }
      if (approval) {
        const match = approval;
        // The owner's command is answered in its own thread; the resumed loop answers the original requester.
        const ack = (text: string): void => {
          if (t.type === 'dm') state.intents.push({ type: 'reply', to: t.inbound, text });
        };
        const code = match.type === 'unknown' ? match.command.code : match.record.code;
        await ctx.step('think', `${behavior.name}.onApproval`, () => handleApproval(ctx, behavior, match, state.buffer, ack), { approval: code, outcome: match.type });
        return;
      }
      if (delegation) {
        const match = delegation;
        await ctx.step('think', `${behavior.name}.onDelegateReply`, () => handleDelegation(ctx, behavior, match, state.buffer), { delegation: match.record.id, outcome: match.type });
        return;
      }
      const hook = t.type === 'dm' || t.type === 'manual' ? 'onMessage' : t.type === 'mention' ? 'onMention' : t.type === 'alarm' ? 'onAlarm' : t.source === 'webhook' ? 'onWebhook' : 'onEvent';
      const name = `${behavior.name}.${hook}`;
      await ctx.step('think', name, async () => {
        if (t.type === 'dm' || t.type === 'manual') await behavior.onMessage?.(ctx, t.message);
        else if (t.type === 'mention') await behavior.onMention?.(ctx, t.message);
        else if (t.type === 'alarm') await behavior.onAlarm?.(ctx, t.alarm);
        else if (t.source === 'webhook') await behavior.onWebhook?.(ctx, t.webhook);
        else await behavior.onEvent?.(ctx, t.event, t.watch);
      });
    });
  } catch (error) {
    failure = error;
  } finally {
    timer.abort();
    host.signal.removeEventListener('abort', onHostAbort);
  }
  // A stop or a terminate mid-tick: roll back everything, the trigger stays as it was.
  if (controller.signal.aborted && !(controller.signal.reason instanceof TickTimeoutError)) {
    state.closed = true;
    log(env, 'info', 'tick rolled back', { agent: record.pubkey, inbox: entry.id, reason: describeError(controller.signal.reason) });
    return;
  }
  if (controller.signal.aborted) failure = controller.signal.reason;
  state.closed = true;
  const usage = { computeMs: env.clock.now() - startedAt, llmCalls: state.llm.calls, tokens: state.llm.input + state.llm.output, sats: state.sats };
  const tokens = { input: state.llm.input, output: state.llm.output };
  const failInput: FailureInput = { ...base, entry, steps, error: failure, retryable: true, usage, tokens, live };
  if (failure !== undefined) return finishFailure(host, { ...failInput, retryable: !isPermanent(failure) });

  const limit = config.budget.storageBytes;
  // The conversation log never makes a tick fail: past the storage budget it is left out.
  const logBytes = [inbound?.text ?? '', ...state.intents.map((i) => (i.type === 'note' ? '' : i.text))].reduce((n, text) => n + utf8Bytes(text), 0);
  const skipMessages = limit !== undefined && record.storageBytes + state.buffer.bytesDelta + logBytes > limit;
  const params: CommitParams = {
    ...base,
    signer: live.signer,
    steps,
    intents: state.intents,
    outcome: 'ok',
    buffer: state.buffer,
    schedules: state.schedules,
    usage,
    tokens,
    result: { ok: true },
    inbox: { id: entry.id, status: 'done' },
    skipMessages,
    ...(parsed.action === 'create' ? { state: { to: 'active' } } : {}),
  };
  let committed: Committed;
  try {
    committed = await commitTick(env, params);
  } catch (error) {
    if (errorCode(error) === 'STORAGE_CONFLICT') {
      log(env, 'warn', 'trigger already handled; tick dropped', { agent: record.pubkey, inbox: entry.id });
      return;
    }
    // Another daemon holds the agent now: nothing was written, its new holder runs the trigger.
    if (errorCode(error) === 'LEASE_LOST') {
      log(env, 'warn', 'lease lost; tick rolled back', { agent: record.pubkey, inbox: entry.id });
      return;
    }
    return finishFailure(host, { ...failInput, error, retryable: !isPermanent(error) });
  }
  live.wakePending = false;
  live.lastActiveAt = env.clock.now();
  emitCommitted(env, record, committed);
}

const encoder = new TextEncoder();
const utf8Bytes = (text: string): number => encoder.encode(text).length;

/** A refused trigger: TickRecord outcome 'refused', inbox row refused, any notice sent. */
async function refuse(
  host: TickHost,
  p: Pick<CommitParams, 'record' | 'config' | 'startedAt' | 'trigger' | 'inbound' | 'intents'> & { entry: InboxEntry; reason: string },
): Promise<void> {
  const { env } = host;
  const steps: TrajectoryStep[] = [{ type: 'perceive', name: p.trigger.type, at: p.startedAt, ms: 0, detail: { refused: p.reason } }];
  try {
    const committed = await commitTick(env, {
      record: p.record,
      config: p.config,
      signer: host.live.get(p.record.index)?.signer ?? env.signerFor(p.record.index),
      startedAt: p.startedAt,
      trigger: p.trigger,
      steps,
      intents: p.intents,
      outcome: 'refused',
      error: p.reason,
      ...(p.inbound ? { inbound: p.inbound } : {}),
      usage: {},
      inbox: { id: p.entry.id, status: 'refused', reason: p.reason },
      skipMessages: true,
    });
    env.events.emit({ type: 'inbound.refused', agent: p.record.pubkey, at: env.clock.now(), reason: p.reason, ...(p.trigger.from ? { from: p.trigger.from } : {}), ...(p.trigger.eventId ? { eventId: p.trigger.eventId } : {}) });
    emitCommitted(env, p.record, committed);
  } catch (error) {
    if (errorCode(error) === 'LEASE_LOST') return;
    log(env, 'error', 'refusal commit failed', { agent: p.record.pubkey, inbox: p.entry.id, error: describeError(error) });
    host.retryAt(p.record.index, env.clock.now() + env.retryBaseMs);
  }
}
