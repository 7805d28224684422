/**
 * One LLM turn inside a tick: the tool loop over the agent's granted tools, and what happens when a
 * tool must wait outside the tick. A `delegate` call suspends the loop: the conversation so far is
 * kept with the delegation (`ctx.delegate`), the tick commits, and `resumeLlmTurn` continues it in
 * the tick that gets the delegate's reply (or its timeout).
 */
import { z } from 'zod';
import type { JsonValue } from '../storage/types.js';
import type { DelegationResult, TickContext } from '../runtime/types.js';
import { thinkWithTools } from '../think/think-with-tools.js';
import { BUILTIN_TOOLS, ToolRegistry } from '../think/tools/registry.js';
import type { Tool } from '../think/tools/types.js';
import type { ThinkMessage, ThinkRequest } from '../think/types.js';
import { errorCode, type ErrorCode } from '../util/errors.js';

/** What a suspended loop keeps with its delegation. */
interface LoopState {
  kind: 'tool-loop';
  system?: string;
  messages: ThinkMessage[];
  callId: string;
}

const LoopStateSchema = z.object({
  kind: z.literal('tool-loop'),
  system: z.string().optional(),
  messages: z.array(z.looseObject({ role: z.enum(['system', 'user', 'assistant', 'tool']) })),
  callId: z.string(),
});

const DelegateDetail = z.object({ target: z.string(), targetName: z.string().optional(), text: z.string(), timeoutMs: z.number().optional() });

const UNREACHABLE = new Set<ErrorCode>(['LLM_HTTP', 'LLM_NETWORK', 'LLM_TIMEOUT', 'LLM_MALFORMED', 'LLM_RETRY_AFTER', 'LLM_SCRIPT']);

/** Errors a turn answers with words instead of failing the tick (the LLM is down, the budget is spent). */
export function turnErrorText(error: unknown): string | undefined {
  const message = (error as Error)?.message;
  const code = errorCode(error);
  if (UNREACHABLE.has(code)) return `Sorry, I could not reach my language model: ${message}`;
  if (code === 'BUDGET_EXCEEDED') return `Sorry, my LLM budget for today is used up (${message}). Ask again tomorrow.`;
  return undefined;
}

/**
 * Runs the tool loop for `request`; resolves with the answer, or undefined when the loop was
 * suspended by a delegation (nothing to say yet: the answer comes in a later tick).
 */
export async function runLlmTurn(ctx: TickContext, request: ThinkRequest, extraTools: readonly Tool[] = []): Promise<string | undefined> {
  if (!ctx.think) throw new Error('runLlmTurn: this agent has no LLM configured');
  const registry = extraTools.length > 0 ? new ToolRegistry([...BUILTIN_TOOLS, ...extraTools]) : undefined;
  const result = await thinkWithTools({ provider: ctx.think, request, ctx: ctx.tools(), ...(registry ? { registry } : {}) });
  if (result.stopReason === 'suspended' && result.suspended) {
    const { tool, detail, callId } = result.suspended;
    const ask = DelegateDetail.safeParse(detail);
    if (tool !== 'delegate' || !ask.success) throw new Error(`the tool loop was suspended by "${tool}", which this agent cannot resume`);
    const state: LoopState = { kind: 'tool-loop', ...(request.system !== undefined ? { system: request.system } : {}), messages: result.messages, callId };
    ctx.delegate(ask.data.targetName ?? ask.data.target, ask.data.text, { ...(ask.data.timeoutMs !== undefined ? { timeoutMs: ask.data.timeoutMs } : {}), state: state as unknown as JsonValue });
    return undefined;
  }
  const text = result.text.trim();
  if (text) return text;
  return result.stopReason === 'step-limit' ? 'Sorry, I could not finish that within my step limit.' : 'Sorry, I have no answer to that.';
}

/** True when a delegation's state is a tool loop waiting for it (what resumeLlmTurn continues). */
export function isSuspendedLoop(state: unknown): boolean {
  return LoopStateSchema.safeParse(state).success;
}

/**
 * Continues a loop suspended by `delegate` with the delegate's reply (or a timeout error) as the
 * tool's result. Undefined when the delegation was not started by a tool loop.
 */
export async function resumeLlmTurn(ctx: TickContext, result: DelegationResult, extraTools: readonly Tool[] = []): Promise<string | undefined> {
  const parsed = LoopStateSchema.safeParse(result.state);
  if (!parsed.success) return undefined;
  const state = parsed.data as unknown as LoopState;
  const who = result.targetName ?? result.target;
  const content = result.timedOut
    ? JSON.stringify({ error: `no reply from ${who} in time` })
    : JSON.stringify({ reply: result.reply ?? '' });
  const messages: ThinkMessage[] = [...state.messages, { role: 'tool', toolCallId: state.callId, content }];
  return runLlmTurn(ctx, { ...(state.system !== undefined ? { system: state.system } : {}), messages }, extraTools);
}
