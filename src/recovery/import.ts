/**
 * Importing one verified snapshot into a home, through the storage seam, inside the caller's
 * transaction (so an agent comes back whole or not at all): the record and config, the memory and
 * schedules (each schedule keeps its next time, so a reminder that came due while no machine ran
 * fires once), today's budget use, the trajectory chain head (the next tick continues the chain:
 * next seq, `prev` = the last published tick), the inbox cursors and the events already handled.
 */
import type { AgentMemorySnapshot, AgentRecord, AgentState, DailyUsage, NewAgent, UsageDelta, UsageMetric } from '../storage/types.js';
import { utcDay } from '../storage/time.js';
import type { TickRecord } from '../trajectory/types.js';
import { RestoreRefusedError, SnapshotError } from './errors.js';
import type { AgentSnapshot } from './format.js';

type Awaitable<T> = T | Promise<T>;

/** What an import needs of a transaction handle (the seam's StorageTx fits). */
export interface RestoreTarget {
  readonly agents: {
    create(agent: NewAgent): Awaitable<AgentRecord>;
    get(ref: string | number): Awaitable<AgentRecord | undefined>;
    updateConfig(ref: string | number, config: Record<string, unknown>, now: number): Awaitable<AgentRecord>;
    updateState(ref: string | number, state: AgentState, options: { now: number }): Awaitable<AgentRecord>;
  };
  importMemory(agentIndex: number, snapshot: unknown, options: { now: number }): Awaitable<AgentMemorySnapshot>;
  readonly budget: {
    get(agentIndex: number, day: string): Awaitable<DailyUsage>;
    add(agentIndex: number, day: string, delta: UsageDelta): Awaitable<DailyUsage>;
    markNotified(agentIndex: number, day: string, metric: UsageMetric, level: 80 | 100): Awaitable<boolean>;
  };
  readonly ticks: {
    nextSeq(agentIndex: number): Awaitable<number>;
    append(agentIndex: number, record: TickRecord): Awaitable<void>;
    markPublished(agentIndex: number, seq: number, eventId: string, now: number): Awaitable<boolean>;
  };
  readonly chainHeads: { set(agentIndex: number, head: unknown): Awaitable<void> };
  readonly cursors: { get(relay: string): Awaitable<number | undefined>; set(relay: string, cursor: number): Awaitable<void> };
  readonly processed: { markProcessed(eventId: string, outcome: string, now: number): Awaitable<boolean> };
}

/** What came back, for `agent restore`'s report. */
export interface ImportSummary {
  name: string;
  index: number;
  facts: number;
  schedules: number;
  kv: number;
  messages: number;
  /** The trajectory head seq restored (the next tick is this + 1). */
  ticks: number;
  /** Config fields that were not in the snapshot (credentials): set them again. */
  stripped: string[];
  replaced: boolean;
}

const METRICS: UsageMetric[] = ['computeMs', 'llmCalls', 'tokens', 'sats'];

/** The counts a restore prints, without writing anything (`--dry-run`). */
export function summarize(snap: AgentSnapshot, replaced = false): ImportSummary {
  return {
    name: snap.agent.name,
    index: snap.agent.index,
    facts: snap.facts.length,
    schedules: snap.schedules.length,
    kv: snap.kv.length,
    messages: snap.messages.length,
    ticks: snap.state.trajectory.chain.lastSeq,
    stripped: snap.agent.stripped,
    replaced,
  };
}

/**
 * Imports `snap` through `tx`. An agent already at that index is replaced only with `replace` (and
 * only when it is the same key); otherwise RestoreRefusedError. Throws on any storage refusal; the
 * caller's transaction then rolls back.
 */
export async function importAgentSnapshot(tx: RestoreTarget, snap: AgentSnapshot, options: { now: number; replace?: boolean }): Promise<ImportSummary> {
  const { now } = options;
  const a = snap.agent;
  // Nothing runs until a daemon starts it: an `active` agent comes back resting.
  const state: AgentState = a.state === 'active' ? 'dormant' : a.state;
  const existing = await tx.agents.get(a.index);
  if (existing) {
    if (existing.pubkey !== a.pubkey) throw new SnapshotError('SNAPSHOT_INVALID', a.name, 'agent', `index ${a.index} is agent "${existing.name}" with another key in this home`);
    if (!options.replace) throw new RestoreRefusedError(`agent "${existing.name}" (index ${a.index}) already exists in this home; pass --force to replace it`);
    await tx.agents.updateConfig(a.index, a.config, now);
    if (existing.state !== state) await tx.agents.updateState(a.index, state, { now });
  } else {
    await tx.agents.create({ name: a.name, behavior: a.behavior, pubkey: a.pubkey, config: a.config, state, index: a.index, now: a.createdAt });
  }
  const memory: AgentMemorySnapshot = { version: 1, kv: snap.kv, facts: snap.facts, goals: snap.goals, peers: snap.peers, messages: snap.messages, schedules: snap.schedules };
  await tx.importMemory(a.index, memory, { now });

  const usage = snap.state.budget;
  if (usage.day === utcDay(now)) {
    const current = await tx.budget.get(a.index, usage.day);
    const delta: UsageDelta = {};
    for (const m of METRICS) if (usage[m] > current[m]) delta[m] = usage[m] - current[m];
    if (Object.keys(delta).length > 0) await tx.budget.add(a.index, usage.day, delta);
    for (const m of usage.notified80) await tx.budget.markNotified(a.index, usage.day, m, 80);
    for (const m of usage.notified100) await tx.budget.markNotified(a.index, usage.day, m, 100);
  }

  const { chain, head } = snap.state.trajectory;
  if (chain.lastSeq > 0 && chain.lastId !== null && (await tx.ticks.nextSeq(a.index)) <= chain.lastSeq) {
    // A stand-in for the head tick (its details stay in the published trajectory): the next tick gets lastSeq + 1.
    const at = head?.endedAt ?? now;
    const stub: TickRecord = {
      agentPubkey: a.pubkey,
      seq: chain.lastSeq,
      startedAt: head?.startedAt ?? at,
      endedAt: at,
      trigger: { type: head?.trigger ?? 'manual', at: head?.startedAt ?? at },
      steps: [{ type: 'state', at: now, ms: 0, name: 'restored', detail: { from: 'snapshot' } }],
      tokens: { input: 0, output: 0 },
      budget: { computeMs: 0, llmCalls: 0, tokens: 0 },
      outcome: head?.outcome ?? 'ok',
      sentEventIds: [],
    };
    await tx.ticks.append(a.index, stub);
    await tx.ticks.markPublished(a.index, chain.lastSeq, chain.lastId, now);
    await tx.chainHeads.set(a.index, chain);
  }

  for (const { relay, cursor } of snap.state.cursors) {
    if ((await tx.cursors.get(relay)) === undefined) await tx.cursors.set(relay, cursor);
  }
  for (const id of snap.seen) await tx.processed.markProcessed(id, 'restored', now);
  return summarize(snap, existing !== undefined);
}
