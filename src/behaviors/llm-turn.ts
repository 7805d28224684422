/**
 * One LLM turn inside a tick: the tool loop over the agent's granted tools, and what happens when a
 * tool must wait outside the tick. A `delegate` call suspends the loop: the conversation so far is
 * kept with the delegation (`ctx.delegate`), the tick commits, and `resumeLlmTurn` continues it in
 * the tick that gets the delegate's reply (or its timeout). A call that needs the owner's approval
 * suspends it the same way (`ctx.requestApproval`); `resumeAfterApproval` continues it.
 */
import { z } from 'zod';
import type { JsonValue } from '../storage/types.js';
import type { ApprovalResult, DelegationResult, TickContext } from '../runtime/types.js';
import { thinkWithTools, type ApprovalDecision } from '../think/think-with-tools.js';
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

const ApprovalDetail = z.object({ kind: z.literal('approval'), tool: z.string(), reason: z.string() });

/** The waiting call's arguments, and the text the model wrote with it (its reason, when it gave one). */
function waitingCall(messages: readonly ThinkMessage[], callId: string): { arguments: string; text?: string } | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== 'assistant') continue;
    const call = m.toolCalls?.find((c) => c.id === callId);
    return call ? { arguments: call.arguments, ...(m.content?.trim() ? { text: m.content.trim() } : {}) } : undefined;
  }
  return undefined;
}

/** The request the loop was answering (the last user message), as the "why" of an approval. */
function lastUserText(messages: readonly ThinkMessage[]): string | undefined {
  const m = [...messages].reverse().find((x) => x.role === 'user');
  return m && m.role === 'user' ? `asked: "${m.content.slice(0, 300)}"` : undefined;
}

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
export async function runLlmTurn(ctx: TickContext, request: ThinkRequest, extraTools: readonly Tool[] = [], decided?: ApprovalDecision): Promise<string | undefined> {
  if (!ctx.think) throw new Error('runLlmTurn: this agent has no LLM configured');
  const registry = extraTools.length > 0 ? new ToolRegistry([...BUILTIN_TOOLS, ...extraTools]) : undefined;
  const result = await thinkWithTools({ provider: ctx.think, request, ctx: ctx.tools(), ...(registry ? { registry } : {}), ...(decided ? { decided } : {}) });
  if (result.stopReason === 'suspended' && result.suspended) {
    const { tool, detail, callId } = result.suspended;
    const state: LoopState = { kind: 'tool-loop', ...(request.system !== undefined ? { system: request.system } : {}), messages: result.messages, callId };
    const approval = ApprovalDetail.safeParse(detail);
    if (approval.success) {
      const call = waitingCall(result.messages, callId);
      const why = call?.text || lastUserText(result.messages);
      await ctx.requestApproval({ tool: approval.data.tool, callId, arguments: call?.arguments ?? '{}', reason: approval.data.reason, ...(why ? { why } : {}), state: state as unknown as JsonValue });
      return undefined;
    }
    const ask = DelegateDetail.safeParse(detail);
    if (tool !== 'delegate' || !ask.success) throw new Error(`the tool loop was suspended by "${tool}", which this agent cannot resume`);
    await ctx.delegate(ask.data.targetName ?? ask.data.target, ask.data.text, { ...(ask.data.timeoutMs !== undefined ? { timeoutMs: ask.data.timeoutMs } : {}), state: state as unknown as JsonValue });
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

/**
 * Continues a loop suspended for the owner's approval: the approved call runs (exactly that one),
 * or the model is told it was denied or not answered in time. Undefined when the approval was not
 * asked by a tool loop, or the loop suspended again.
 */
export async function resumeAfterApproval(ctx: TickContext, result: ApprovalResult, extraTools: readonly Tool[] = []): Promise<string | undefined> {
  const parsed = LoopStateSchema.safeParse(result.state);
  if (!parsed.success) return undefined;
  const state = parsed.data as unknown as LoopState;
  const note = result.decision === 'timeout' ? 'my owner did not answer the approval request in time, so this call was not run' : 'my owner denied this call';
  const decided: ApprovalDecision = { callId: result.callId, tool: result.tool, approved: result.approved, note };
  return runLlmTurn(ctx, { ...(state.system !== undefined ? { system: state.system } : {}), messages: state.messages }, extraTools, decided);
}

/** Runs `turn` and replies with its answer; LLM outages and spent budgets are answered in words. */
export async function answerWith(ctx: TickContext, turn: () => Promise<string | undefined>): Promise<void> {
  let answer: string | undefined;
  try {
    answer = await turn();
  } catch (error) {
    // A deadline or stop aborts the tick: it must not turn into an answer.
    if (ctx.signal.aborted) throw error;
    answer = turnErrorText(error);
    if (answer === undefined) throw error;
    ctx.log('LLM turn failed', { error: (error as Error).message });
  }
  if (answer !== undefined) ctx.reply(answer);
}

/** Continues the loop the owner's approval decision was waiting for (the approved call runs, or the model hears the denial). */
export function continueAfterApproval(ctx: TickContext, result: ApprovalResult, tools: readonly Tool[] = []): Promise<void> {
  return answerWith(ctx, async () => {
    if (ctx.think && isSuspendedLoop(result.state)) return resumeAfterApproval(ctx, result, tools);
    return `My owner ${result.approved ? 'approved' : 'did not approve'} ${result.tool}, but I cannot continue that request.`;
  });
}

