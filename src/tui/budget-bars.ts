/**
 * Budget use as bars for the status line. The daemon reports today's use with its limits; limits
 * may be keyed by metric (`computeMs`) or as the agent config writes them (`dailyComputeSeconds`),
 * and absent limits fall back to the runtime's defaults so the bars match what the runtime enforces.
 */
import type { AgentSummary } from '../control/types.js';
import { BudgetLimitsSchema } from '../runtime/agent-config.js';
import { dailyLimits } from '../runtime/budget.js';

/** One metric's use against its daily limit. */
export interface BudgetBar {
  label: string;
  used: number;
  limit: number;
  /** used / limit, clamped to [0, 1]. */
  ratio: number;
}

const METRICS = [
  { key: 'computeMs', label: 'compute' },
  { key: 'llmCalls', label: 'llm' },
  { key: 'tokens', label: 'tokens' },
  { key: 'sats', label: 'sats' },
] as const;

type Metric = (typeof METRICS)[number]['key'];

/** The daily limits per metric, from either key style; undefined = unlimited. */
export function normalizeLimits(limits: Record<string, number | undefined>): Record<Metric, number | undefined> {
  if (METRICS.some((m) => typeof limits[m.key] === 'number')) {
    return { computeMs: limits.computeMs, llmCalls: limits.llmCalls, tokens: limits.tokens, sats: limits.sats };
  }
  const parsed = BudgetLimitsSchema.safeParse(limits);
  return parsed.success ? dailyLimits(parsed.data) : { computeMs: undefined, llmCalls: undefined, tokens: undefined, sats: undefined };
}

/** The bars for an agent's budget: one per limited metric, in a fixed order. */
export function budgetBars(budget: AgentSummary['budget']): BudgetBar[] {
  if (!budget) return [];
  const limits = normalizeLimits(budget.limits ?? {});
  const bars: BudgetBar[] = [];
  for (const { key, label } of METRICS) {
    const limit = limits[key];
    if (limit === undefined || !(limit > 0)) continue;
    const used = budget[key] ?? 0;
    bars.push({ label, used, limit, ratio: Math.min(1, Math.max(0, used / limit)) });
  }
  return bars;
}

/** A bar of `width` cells: filled `█`, empty `░`; any use shows at least one filled cell. */
export function meter(ratio: number, width: number): string {
  const clamped = Math.min(1, Math.max(0, ratio));
  const filled = clamped > 0 ? Math.max(1, Math.round(clamped * width)) : 0;
  return '█'.repeat(filled) + '░'.repeat(Math.max(0, width - filled));
}

/** The percentage a person reads: `0%`, `<1%`, `42%`, `100%`. */
export function percent(ratio: number): string {
  if (ratio <= 0) return '0%';
  if (ratio < 0.01) return '<1%';
  return `${Math.floor(ratio * 100)}%`;
}
