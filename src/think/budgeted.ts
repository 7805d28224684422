/**
 * A decorator that asks the agent's LLM budget before each call and reports the call and its
 * tokens after. Failed calls are not recorded: they cost nothing the budget counts.
 */
import { BudgetExceededError } from '../util/errors.js';
import type { LlmBudget, ThinkProvider, ThinkRequest, ThinkResult } from './types.js';

/** Refuses with BudgetExceededError when `budget.check()` says no; otherwise calls through and records. */
export class BudgetedProvider implements ThinkProvider {
  readonly name: string;

  constructor(
    private readonly inner: ThinkProvider,
    private readonly budget: LlmBudget,
  ) {
    this.name = `budgeted(${inner.name})`;
  }

  async think(request: ThinkRequest, options: { signal?: AbortSignal } = {}): Promise<ThinkResult> {
    const verdict = await this.budget.check();
    if (!verdict.ok) throw new BudgetExceededError('LLM', verdict.reason);
    const result = await this.inner.think(request, options);
    await this.budget.record({ calls: 1, tokens: result.usage.inputTokens + result.usage.outputTokens });
    return result;
  }
}
