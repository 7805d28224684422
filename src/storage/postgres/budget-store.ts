/**
 * The budget ledger on Postgres: per agent per UTC day, compute ms, LLM calls, tokens and sats,
 * with one bit per metric for "owner told at 80%" / "at 100%". Storage bytes are the running total
 * on the agents row (triggers), checked by `withStorageLimit`.
 */
import type { DailyUsage, UsageDelta, UsageMetric } from '../runtime-types.js';
import { StorageBudgetExceededError, StorageInputError } from '../errors.js';
import { storageBytes } from './agent-store.js';
import type { Ex } from './executor.js';

interface UsageRow {
  compute_ms: number;
  llm_calls: number;
  tokens: number;
  sats: number;
  notified80: number;
  notified100: number;
}

/** Metric order: also the bit position of each metric in the notified flags. */
const METRICS: readonly UsageMetric[] = ['computeMs', 'llmCalls', 'tokens', 'sats'];
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function checkDay(day: string): void {
  if (!DAY.test(day)) throw new StorageInputError(`budget day must be YYYY-MM-DD (UTC), got ${JSON.stringify(day)}`);
}

/** Adds usage to the agent's day; returns the day's totals (one statement). */
export async function addUsage(ex: Ex, agentIndex: number, day: string, delta: UsageDelta): Promise<DailyUsage> {
  checkDay(day);
  const values = METRICS.map((m) => {
    const v = delta[m] ?? 0;
    if (!Number.isFinite(v) || v < 0) throw new StorageInputError(`usage ${m} must be a non-negative number, got ${v}`);
    return Math.round(v);
  });
  const row = await ex.one<UsageRow>(
    `INSERT INTO budget_usage AS u (agent_index, day, compute_ms, llm_calls, tokens, sats) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (agent_index, day) DO UPDATE SET compute_ms = u.compute_ms + excluded.compute_ms,
       llm_calls = u.llm_calls + excluded.llm_calls, tokens = u.tokens + excluded.tokens, sats = u.sats + excluded.sats
     RETURNING *`,
    [agentIndex, day, ...values],
  );
  return toUsage(day, row);
}

/** The agent's totals for a day (zeros when nothing was recorded). */
export async function getUsage(ex: Ex, agentIndex: number, day: string): Promise<DailyUsage> {
  checkDay(day);
  return toUsage(day, await ex.one<UsageRow>(`SELECT * FROM budget_usage WHERE agent_index = $1 AND day = $2`, [agentIndex, day]));
}

function toUsage(day: string, row: UsageRow | undefined): DailyUsage {
  const flags = (bits: number): UsageMetric[] => METRICS.filter((_, i) => (bits & (1 << i)) !== 0);
  return {
    day,
    computeMs: row?.compute_ms ?? 0,
    llmCalls: row?.llm_calls ?? 0,
    tokens: row?.tokens ?? 0,
    sats: row?.sats ?? 0,
    notified80: flags(row?.notified80 ?? 0),
    notified100: flags(row?.notified100 ?? 0),
  };
}

/** Sets a warning flag; true only the first time for this agent, day, metric and level (one statement). */
export async function markUsageNotified(ex: Ex, agentIndex: number, day: string, metric: UsageMetric, level: 80 | 100): Promise<boolean> {
  checkDay(day);
  const bit = 1 << METRICS.indexOf(metric);
  if (bit < 1) throw new StorageInputError(`unknown usage metric ${JSON.stringify(metric)}`);
  const column = level === 80 ? 'notified80' : 'notified100';
  await ex.count(`INSERT INTO budget_usage (agent_index, day) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [agentIndex, day]);
  // An UPDATE re-checks its WHERE after waiting for a concurrent one, so only one caller sees the bit unset.
  const changed = await ex.count(
    `UPDATE budget_usage SET ${column} = ${column} | $3 WHERE agent_index = $1 AND day = $2 AND (${column} & $3) = 0`,
    [agentIndex, day, bit],
  );
  return changed > 0;
}

/**
 * Runs `fn` as a unit and refuses (StorageBudgetExceededError, everything rolled back) if it grew the
 * agent's storage past `limit`. Shrinking writes are always allowed, even over the limit. Without a
 * limit there is nothing to check and `fn` runs as it is.
 */
export async function withStorageLimit<T>(ex: Ex, agentIndex: number, limit: number | undefined, fn: (ex: Ex) => Promise<T>): Promise<T> {
  if (limit === undefined) return fn(ex);
  return ex.unit(async (tx) => {
    const before = await storageBytes(tx, agentIndex);
    const result = await fn(tx);
    const after = await storageBytes(tx, agentIndex);
    if (after > limit && after > before) throw new StorageBudgetExceededError(agentIndex, after, limit);
    return result;
  });
}
