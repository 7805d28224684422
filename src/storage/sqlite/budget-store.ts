/**
 * The budget ledger: per agent per UTC day, compute ms, LLM calls, tokens and sats, with one flag
 * per metric for "owner told at 80%" and "at 100%" so each warning goes out once. Storage bytes are
 * a running total on the agents row (triggers), checked by `withStorageLimit`.
 */
import type { DailyUsage, UsageDelta, UsageMetric } from '../runtime-types.js';
import { StorageBudgetExceededError, StorageInputError } from '../errors.js';
import type { Db } from './database.js';
import { get, run, sql } from './query.js';

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

const ADD = sql<[number, string, number, number, number, number]>(`
  INSERT INTO budget_usage (agent_index, day, compute_ms, llm_calls, tokens, sats) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (agent_index, day) DO UPDATE SET compute_ms = compute_ms + excluded.compute_ms,
    llm_calls = llm_calls + excluded.llm_calls, tokens = tokens + excluded.tokens, sats = sats + excluded.sats`);
const GET = sql<[number, string], UsageRow>(`SELECT * FROM budget_usage WHERE agent_index = ? AND day = ?`);
const ENSURE = sql<[number, string]>(`INSERT INTO budget_usage (agent_index, day) VALUES (?, ?) ON CONFLICT DO NOTHING`);
const NOTIFY80 = sql<[number, number, string, number]>(`
  UPDATE budget_usage SET notified80 = notified80 | ? WHERE agent_index = ? AND day = ? AND (notified80 & ?) = 0`);
const NOTIFY100 = sql<[number, number, string, number]>(`
  UPDATE budget_usage SET notified100 = notified100 | ? WHERE agent_index = ? AND day = ? AND (notified100 & ?) = 0`);
const BYTES = sql<[number], { storage_bytes: number }>(`SELECT storage_bytes FROM agents WHERE agent_index = ?`);

function checkDay(day: string): void {
  if (!DAY.test(day)) throw new StorageInputError(`budget day must be YYYY-MM-DD (UTC), got ${JSON.stringify(day)}`);
}

/** Adds usage to the agent's day; returns the day's totals. */
export function addUsage(db: Db, agentIndex: number, day: string, delta: UsageDelta): DailyUsage {
  checkDay(day);
  const values = METRICS.map((m) => {
    const v = delta[m] ?? 0;
    if (!Number.isFinite(v) || v < 0) throw new StorageInputError(`usage ${m} must be a non-negative number, got ${v}`);
    return Math.round(v);
  }) as [number, number, number, number];
  run(db, ADD, agentIndex, day, ...values);
  return getUsage(db, agentIndex, day);
}

/** The agent's totals for a day (zeros when nothing was recorded). */
export function getUsage(db: Db, agentIndex: number, day: string): DailyUsage {
  checkDay(day);
  const row = get(db, GET, agentIndex, day);
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

/** Sets a warning flag; true only the first time for this agent, day, metric and level. */
export function markUsageNotified(db: Db, agentIndex: number, day: string, metric: UsageMetric, level: 80 | 100): boolean {
  checkDay(day);
  const bit = 1 << METRICS.indexOf(metric);
  if (bit < 1) throw new StorageInputError(`unknown usage metric ${JSON.stringify(metric)}`);
  run(db, ENSURE, agentIndex, day);
  return run(db, level === 80 ? NOTIFY80 : NOTIFY100, bit, agentIndex, day, bit).changes > 0;
}

/** The agent's stored bytes (kv + facts + messages + goals, UTF-8). */
export function storageBytes(db: Db, agentIndex: number): number {
  return get(db, BYTES, agentIndex)?.storage_bytes ?? 0;
}

/**
 * Runs `fn` in a transaction and refuses (StorageBudgetExceededError, everything rolled back) if it
 * grew the agent's storage past `limit`. Shrinking writes are always allowed, even over the limit.
 */
export function withStorageLimit<T>(db: Db, agentIndex: number, limit: number | undefined, fn: () => T): T {
  return db.transaction(() => {
    const before = storageBytes(db, agentIndex);
    const result = fn();
    checkStorageLimit(agentIndex, before, storageBytes(db, agentIndex), limit);
    return result;
  })();
}

/** Throws StorageBudgetExceededError (the caller's transaction rolls back) when a write grew the agent's bytes past `limit`. */
export function checkStorageLimit(agentIndex: number, before: number, after: number, limit: number | undefined): void {
  if (limit !== undefined && after > limit && after > before) throw new StorageBudgetExceededError(agentIndex, after, limit);
}
