/**
 * Budget arithmetic over the storage ledger: UTC days, which metric is exhausted, which
 * thresholds (80%, 100%) a tick's usage crossed, and the words the owner is told.
 */
import type { DailyUsage, UsageMetric } from '../storage/types.js';
import type { BudgetLimits } from './agent-config.js';
import type { BudgetView } from './types.js';

/** The metrics limited per UTC day, in the order they are reported. */
export const DAILY_METRICS: readonly UsageMetric[] = ['computeMs', 'llmCalls', 'tokens', 'sats'];

/** The UTC day (`YYYY-MM-DD`) of a time in ms: the budget window. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The start of the next UTC day after `ms`: when refused ticks run again. */
export function nextUtcMidnight(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

/** Daily limits per ledger metric (undefined = unlimited). */
export function dailyLimits(budget: BudgetLimits): Record<UsageMetric, number | undefined> {
  return {
    computeMs: budget.dailyComputeSeconds === undefined ? undefined : budget.dailyComputeSeconds * 1000,
    llmCalls: budget.dailyLlmCalls,
    tokens: budget.dailyTokens,
    sats: budget.dailySats,
  };
}

/** A metric at or past a threshold. */
export interface BudgetMark {
  metric: UsageMetric;
  level: 80 | 100;
  used: number;
  limit: number;
}

/** The first metric whose use has reached its limit (ticks are refused), if any. */
export function exhaustedMetric(usage: Pick<DailyUsage, UsageMetric>, limits: Record<UsageMetric, number | undefined>): BudgetMark | undefined {
  for (const metric of DAILY_METRICS) {
    const limit = limits[metric];
    if (limit !== undefined && usage[metric] >= limit) return { metric, level: 100, used: usage[metric], limit };
  }
  return undefined;
}

/** Every threshold (80 then 100) that `after` is at or past, per metric; the ledger's flags decide which are new. */
export function thresholdsReached(after: Pick<DailyUsage, UsageMetric>, limits: Record<UsageMetric, number | undefined>): BudgetMark[] {
  const out: BudgetMark[] = [];
  for (const metric of DAILY_METRICS) {
    const limit = limits[metric];
    if (limit === undefined) continue;
    const used = after[metric];
    if (used >= limit * 0.8) out.push({ metric, level: 80, used, limit });
    if (used >= limit) out.push({ metric, level: 100, used, limit });
  }
  return out;
}

const LABEL: Record<UsageMetric, string> = { computeMs: 'compute seconds', llmCalls: 'LLM calls', tokens: 'LLM tokens', sats: 'sats' };

/** A metric's value in its reported unit (compute in seconds with one decimal). */
export function formatUse(metric: UsageMetric, value: number): string {
  return metric === 'computeMs' ? (value / 1000).toFixed(1) : String(value);
}

/** "compute seconds 2900.0 of 3600.0 (81%)". */
export function describeMark(mark: Pick<BudgetMark, 'metric' | 'used' | 'limit'>): string {
  const pct = Math.floor((mark.used / mark.limit) * 100);
  return `${LABEL[mark.metric]} ${formatUse(mark.metric, mark.used)} of ${formatUse(mark.metric, mark.limit)} (${pct}%)`;
}

/** The owner's DM for a threshold. */
export function budgetNotice(agentName: string, mark: BudgetMark, now: number): string {
  if (mark.level === 80) return `Budget warning: agent "${agentName}" has used ${describeMark(mark)} of today's ${LABEL[mark.metric]} budget. At 100% its ticks are refused until 00:00 UTC.`;
  const resets = new Date(nextUtcMidnight(now)).toISOString();
  return `Budget exhausted: agent "${agentName}" has used ${describeMark(mark)}. Its ticks are refused until the window resets at ${resets}. Owner commands (/status, /budget, /resume) still work.`;
}

/** The BudgetView a behavior or /budget shows. */
export function budgetView(day: string, usage: Pick<DailyUsage, UsageMetric>, budget: BudgetLimits, storageBytes: number): BudgetView {
  const limits = dailyLimits(budget);
  const item = (metric: UsageMetric): { used: number; limit?: number } =>
    limits[metric] === undefined ? { used: usage[metric] } : { used: usage[metric], limit: limits[metric] };
  return {
    day,
    computeMs: item('computeMs'),
    llmCalls: item('llmCalls'),
    tokens: item('tokens'),
    sats: item('sats'),
    storageBytes: budget.storageBytes === undefined ? { used: storageBytes } : { used: storageBytes, limit: budget.storageBytes },
    maxTickMs: budget.maxTickMs,
  };
}

/** Multi-line text of a BudgetView (for /budget and the assistant's status). */
export function formatBudget(view: BudgetView): string {
  const line = (label: string, metric: UsageMetric | 'storageBytes', v: { used: number; limit?: number }): string => {
    const used = metric === 'storageBytes' ? String(v.used) : formatUse(metric, v.used);
    if (v.limit === undefined) return `${label}: ${used} (no limit)`;
    const limit = metric === 'storageBytes' ? String(v.limit) : formatUse(metric, v.limit);
    return `${label}: ${used} of ${limit} (${Math.floor((v.used / v.limit) * 100)}%)`;
  };
  return [
    `Budget for ${view.day} (UTC):`,
    line('compute seconds', 'computeMs', view.computeMs),
    line('LLM calls', 'llmCalls', view.llmCalls),
    line('LLM tokens', 'tokens', view.tokens),
    line('sats', 'sats', view.sats),
    line('storage bytes', 'storageBytes', view.storageBytes),
    `max tick duration: ${view.maxTickMs} ms`,
  ].join('\n');
}
