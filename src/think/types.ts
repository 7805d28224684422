/**
 * The ThinkProvider seam: whatever produces the agent's next words and tool calls (an LLM over
 * an OpenAI-compatible endpoint, deterministic rules, or a scripted replay in tests).
 */

/** A chat message in the provider-neutral form the runtime keeps. */
export type ThinkMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

/** A tool the model may call: its name, what it does, and a JSON Schema for its arguments. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** One call the model asked for. `arguments` is the raw JSON text the model produced. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** Input to one think step. */
export interface ThinkRequest {
  system?: string;
  messages: ThinkMessage[];
  tools?: ToolSpec[];
  /** Overrides the provider's default model. */
  model?: string;
}

/** Token use of one call, counted against the agent's budgets. */
export interface ThinkUsage {
  inputTokens: number;
  outputTokens: number;
  /** True when the endpoint sent no `usage` and the counts were estimated from text length. */
  estimated?: boolean;
}

/** Output of one think step: text, tool calls, or both. */
export interface ThinkResult {
  text?: string;
  toolCalls?: ToolCall[];
  usage: ThinkUsage;
}

/** Produces one think step; honours the signal (the tick's deadline). */
export interface ThinkProvider {
  readonly name: string;
  think(request: ThinkRequest, options?: { signal?: AbortSignal }): Promise<ThinkResult>;
}

/** A verdict from an LLM budget: go ahead, or refuse with a reason the owner can read. */
export type BudgetVerdict = { ok: true } | { ok: false; reason: string };

/**
 * The runtime's daily LLM allowance as the think layer sees it: asked before each call, told after.
 * Implementations may be synchronous (SQLite) or asynchronous.
 */
export interface LlmBudget {
  check(): BudgetVerdict | Promise<BudgetVerdict>;
  record(use: { calls: number; tokens: number }): void | Promise<void>;
}
