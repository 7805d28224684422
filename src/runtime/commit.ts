/**
 * The one transaction at the end of every tick, whatever its outcome: state writes, signed
 * outgoing events (outbox rows), the TickRecord, usage, the agent's counters, the trigger's
 * done/failed/refused mark, budget notices to the owner and any lifecycle change all commit
 * together or not at all.
 */
import type { Signer } from '../signer/types.js';
import { LeaseLostError } from '../storage/errors.js';
import type { AgentRecord, AgentState, NewMessage, ScheduleOp, StorageTx, TickCommit, TickCommitResult, UsageDelta, UsageMetric } from '../storage/types.js';
import type { TickOutcome, TickRecord, TrajectoryStep, TrajectoryTrigger } from '../trajectory/types.js';
import type { AgentConfig } from './agent-config.js';
import { budgetNotice, dailyLimits, thresholdsReached, utcDay, type BudgetMark } from './budget.js';
import { buildOutgoing, type EngineEnv } from './env.js';
import type { TickBuffer } from './tick-buffer.js';
import { canTransition } from './lifecycle.js';
import type { OutboundIntent } from './types.js';

/** Everything a tick's commit needs. */
export interface CommitParams {
  record: AgentRecord;
  config: AgentConfig;
  signer: Signer;
  startedAt: number;
  trigger: TrajectoryTrigger;
  steps: TrajectoryStep[];
  intents: OutboundIntent[];
  outcome: TickOutcome;
  error?: string;
  /** The received message, logged in the conversation with its sender. */
  inbound?: NewMessage;
  buffer?: TickBuffer;
  schedules?: ScheduleOp[];
  usage: UsageDelta;
  tokens?: { input: number; output: number };
  result?: { ok: boolean; error?: string };
  inbox?: TickCommit['inbox'];
  /** A lifecycle change applied in the same transaction. */
  state?: { to: AgentState; error?: string };
  /** Extra writes in the same transaction (e.g. deferring the trigger for a retry). */
  also?: (tx: StorageTx) => Promise<unknown>;
  /** Leave the conversation log out (the storage budget is full). */
  skipMessages?: boolean;
}

/** What was committed. */
export interface Committed {
  tick: TickRecord;
  result: TickCommitResult;
  notices: BudgetMark[];
  record: AgentRecord;
}

async function ownerNotices(env: EngineEnv, tx: StorageTx, p: CommitParams, now: number): Promise<{ intents: OutboundIntent[]; marks: BudgetMark[] }> {
  const day = utcDay(now);
  const before = await tx.budget.get(p.record.index, day);
  const after: Record<UsageMetric, number> = { computeMs: before.computeMs, llmCalls: before.llmCalls, tokens: before.tokens, sats: before.sats };
  for (const [metric, value] of Object.entries(p.usage) as Array<[UsageMetric, number]>) after[metric] += value;
  const fresh: BudgetMark[] = [];
  for (const mark of thresholdsReached(after, dailyLimits(p.config.budget))) {
    const already = mark.level === 80 ? before.notified80 : before.notified100;
    if (already.includes(mark.metric)) continue;
    if (await tx.budget.markNotified(p.record.index, day, mark.metric, mark.level)) fresh.push(mark);
  }
  // Jumping straight past 100% tells the owner once, with the 100% words.
  const marks = fresh.filter((m) => m.level === 100 || !fresh.some((o) => o.metric === m.metric && o.level === 100));
  return { intents: marks.map((m) => ({ type: 'dm', recipient: env.ownerPubkey, text: budgetNotice(p.record.name, m, now) })), marks };
}

/** Builds and commits the tick in one storage transaction; throws (and writes nothing) if any part fails. */
export function commitTick(env: EngineEnv, p: CommitParams): Promise<Committed> {
  const { storage, clock } = env;
  return storage.transaction(async (tx) => {
    const now = clock.now();
    // Two independent reads issued together (on PostgreSQL one pipelined round trip, not two).
    const [seq, notices] = await Promise.all([tx.ticks.nextSeq(p.record.index), ownerNotices(env, tx, p, now)]);
    const built = buildOutgoing(env, p.signer, [...p.intents, ...notices.intents], now);
    // Signing the outgoing events is part of the tick: its end time and compute charge include it.
    const endedAt = clock.now();
    const usage = { ...p.usage, computeMs: (p.usage.computeMs ?? 0) + (endedAt - now) };
    const steps = [...p.steps, ...built.steps];
    const b = p.buffer;
    if (b && (b.kvOps.size > 0 || b.factOps.length > 0 || (p.schedules?.length ?? 0) > 0)) {
      steps.push({
        type: 'state',
        name: 'remember',
        at: now,
        ms: 0,
        detail: { kv: [...b.kvOps.keys()], facts: b.factOps.length, schedules: p.schedules?.length ?? 0 },
      });
    }
    const messages = p.skipMessages ? [] : [...(p.inbound ? [p.inbound] : []), ...(b?.messages ?? []), ...built.messages];
    const tick: TickRecord = {
      agentPubkey: p.record.pubkey,
      seq,
      startedAt: p.startedAt,
      endedAt,
      trigger: p.trigger,
      steps,
      tokens: p.tokens ?? { input: 0, output: 0 },
      budget: { computeMs: usage.computeMs, llmCalls: usage.llmCalls ?? 0, tokens: usage.tokens ?? 0 },
      outcome: p.outcome,
      ...(p.error !== undefined ? { error: p.error } : {}),
      sentEventIds: built.eventIds,
    };
    const fence = env.fenceFor?.(p.record.index);
    if (env.fenceFor && !fence) throw new LeaseLostError(p.record.index, env.holder ?? 'this daemon', 0);
    const commit: TickCommit = {
      agentIndex: p.record.index,
      now,
      ...(fence ? { fence } : {}),
      ...(b ? { kv: [...b.kvOps.values()], facts: b.factOps } : {}),
      messages,
      ...(p.inbound ? { peers: [{ pubkey: p.inbound.peer, at: now, ...(p.inbound.peer === env.ownerPubkey ? { trust: 'owner' as const } : {}) }] } : {}),
      ...(p.schedules ? { schedules: p.schedules } : {}),
      outbox: built.outbox,
      tick,
      usage,
      ...(p.result ? { result: p.result } : {}),
      ...(p.inbox ? { inbox: p.inbox } : {}),
      ...(p.config.budget.storageBytes !== undefined ? { storageLimitBytes: p.config.budget.storageBytes } : {}),
    };
    const result = await tx.commitTick(commit);
    await env.trajectory?.record({ tx, tick, agent: p.record, signer: p.signer, config: p.config, now });
    let record = result.agent ?? p.record;
    if (p.state && p.state.to !== record.state && canTransition(record.state, p.state.to)) {
      record = await tx.agents.updateState(p.record.index, p.state.to, { now, ...(p.state.error !== undefined ? { error: p.state.error } : {}) });
    }
    await p.also?.(tx);
    return { tick, result, notices: notices.marks, record };
  });
}
