/**
 * The one call the runtime makes from inside a tick: the granted tools from the registry and the
 * agent's MCP servers, the tick's signal and clock, and every step recorded through the context.
 */
import { withMcpTools } from './mcp/dispatch.js';
import { runToolLoop, type ToolLoopResult } from './tool-loop.js';
import { ToolRegistry } from './tools/registry.js';
import type { ToolContext } from './tools/types.js';
import type { ThinkProvider, ThinkRequest } from './types.js';

/** Options; `registry` defaults to the built-in tools. */
export interface ThinkWithToolsOptions {
  provider: ThinkProvider;
  request: ThinkRequest;
  ctx: ToolContext;
  registry?: ToolRegistry;
  maxSteps?: number;
}

const builtins = new ToolRegistry();

/** Runs the tool loop with the agent's capabilities (MCP servers listed first); steps go to `ctx.recordStep`. */
export async function thinkWithTools(options: ThinkWithToolsOptions): Promise<ToolLoopResult> {
  const { ctx } = options;
  return runToolLoop({
    provider: options.provider,
    request: options.request,
    tools: await withMcpTools((options.registry ?? builtins).dispatcher(ctx), ctx),
    onStep: (step) => ctx.recordStep(step),
    clock: { now: () => ctx.now() },
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {}),
  });
}
