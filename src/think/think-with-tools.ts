/**
 * The one call the runtime makes from inside a tick: the granted tools from the registry and the
 * agent's MCP servers, the tick's signal and clock, and every step recorded through the context.
 * A loop that was suspended for the owner's approval resumes here with the owner's decision: the
 * approved call runs first (exactly that call: approvedOnce), or the model is told it was denied.
 */
import { withMcpTools } from './mcp/dispatch.js';
import { runToolLoop, type ToolLoopResult } from './tool-loop.js';
import { approvedOnce } from './tools/approval.js';
import { ToolRegistry } from './tools/registry.js';
import { ToolSuspendedError, type ToolContext } from './tools/types.js';
import type { ThinkMessage, ThinkProvider, ThinkRequest, ToolCall } from './types.js';

/** The owner's decision on the call a loop was suspended for. */
export interface ApprovalDecision {
  callId: string;
  /** The tool's name as the gate saw it (`server.tool` for MCP tools). */
  tool: string;
  approved: boolean;
  /** What the model is told when the call is not run (denied, or no answer in time). */
  note?: string;
}

/** Options; `registry` defaults to the built-in tools. */
export interface ThinkWithToolsOptions {
  provider: ThinkProvider;
  request: ThinkRequest;
  ctx: ToolContext;
  registry?: ToolRegistry;
  maxSteps?: number;
  /** Set when resuming a loop suspended for approval: `request.messages` ends with the waiting call. */
  decided?: ApprovalDecision;
}

const builtins = new ToolRegistry();

/** Runs the tool loop with the agent's capabilities (MCP servers listed first); steps go to `ctx.recordStep`. */
export async function thinkWithTools(options: ThinkWithToolsOptions): Promise<ToolLoopResult> {
  const { decided } = options;
  const ctx = decided?.approved ? approvedOnce(options.ctx, decided.callId, decided.tool) : options.ctx;
  const tools = await withMcpTools((options.registry ?? builtins).dispatcher(ctx), ctx);
  const messages = [...options.request.messages];
  if (decided) {
    const call = waitingCall(messages, decided.callId);
    let content = JSON.stringify({ error: decided.note ?? 'the owner denied this call', denied: true });
    if (call && decided.approved) {
      const at = ctx.now();
      try {
        const outcome = await tools.call(call, ctx.signal ? { signal: ctx.signal } : {});
        ctx.recordStep({
          type: 'tool', at, ms: ctx.now() - at, name: outcome.name ?? call.name.slice(0, 64),
          detail: { ok: outcome.ok, callId: call.id, approved: true, ...(outcome.refused ? { refused: true } : {}), ...(outcome.error ? { error: outcome.error } : {}), ...outcome.detail },
        });
        content = outcome.content;
      } catch (error) {
        // The approved call itself must wait (an approved delegate): the loop stays suspended on it.
        if (!(error instanceof ToolSuspendedError)) throw error;
        ctx.recordStep({ type: 'tool', at, ms: ctx.now() - at, name: decided.tool, detail: { ok: true, callId: call.id, approved: true, suspended: true } });
        return { text: '', messages, usage: { inputTokens: 0, outputTokens: 0 }, thinkCalls: 0, toolCalls: 1, stopReason: 'suspended', suspended: { callId: call.id, tool: decided.tool, detail: error.detail } };
      }
    } else if (!call) content = JSON.stringify({ error: 'the call that waited for approval is no longer in the conversation' });
    messages.push({ role: 'tool', toolCallId: decided.callId, content });
  }
  return runToolLoop({
    provider: options.provider,
    request: { ...options.request, messages },
    tools,
    onStep: (step) => ctx.recordStep(step),
    clock: { now: () => ctx.now() },
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {}),
  });
}

/** The tool call with `id` in the conversation's last assistant turn. */
function waitingCall(messages: readonly ThinkMessage[], id: string): ToolCall | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'assistant') return m.toolCalls?.find((c) => c.id === id);
  }
  return undefined;
}
