/**
 * The tool registry: given an agent's capabilities, the ToolSpecs to offer the model, and a
 * dispatcher that validates each call's arguments, enforces the capabilities, runs the tool and
 * turns every failure into a message for the model (never a crash of the tick).
 */
import { z } from 'zod';
import { AbortError } from '../../util/clock.js';
import type { ToolCall, ToolSpec } from '../types.js';
import { gateCall, spendFor } from './approval.js';
import { toolSpec } from './define.js';
import { httpFetchTool } from './http-fetch.js';
import { forgetTool, recallTool, rememberTool } from './memory.js';
import { delegateTool, publishNoteTool, sendDmTool } from './messaging.js';
import { scheduleTool } from './schedule.js';
import { ToolInputError, ToolRefusedError, ToolSuspendedError, type Tool, type ToolCapabilities, type ToolContext, type ToolDispatcher, type ToolOutcome } from './types.js';

/** The built-in tools, in the order they are offered. */
export const BUILTIN_TOOLS: readonly Tool[] = [
  rememberTool, recallTool, forgetTool, scheduleTool, sendDmTool, publishNoteTool, httpFetchTool, delegateTool,
] as Tool[];

/** Names of the built-in tools (what a capabilities list may grant). */
export const BUILTIN_TOOL_NAMES: readonly string[] = BUILTIN_TOOLS.map((t) => t.name);

/** A set of tools by name; a behavior may add its own (a later one replaces a built-in of the same name). */
export class ToolRegistry {
  readonly #tools = new Map<string, Tool>();

  constructor(tools: readonly Tool[] = BUILTIN_TOOLS) {
    for (const tool of tools) this.#tools.set(tool.name, tool);
  }

  /** Every registered tool's name. */
  names(): string[] {
    return [...this.#tools.keys()];
  }

  /** The specs of the tools `capabilities` grants, in registration order. */
  specsFor(capabilities: ToolCapabilities): ToolSpec[] {
    return [...this.#tools.values()].filter((t) => capabilities.tools.includes(t.name)).map(toolSpec);
  }

  /** A dispatcher for one tick: offers the granted tools and runs calls against `ctx`. */
  dispatcher(ctx: ToolContext): ToolDispatcher {
    return { specs: this.specsFor(ctx.capabilities), call: (call, options) => this.#call(call, ctx, options?.signal ?? ctx.signal) };
  }

  async #call(call: ToolCall, ctx: ToolContext, signal: AbortSignal | undefined): Promise<ToolOutcome> {
    const tool = this.#tools.get(call.name);
    if (!tool || !ctx.capabilities.tools.includes(call.name)) {
      const why = tool ? 'it is not granted to this agent' : 'there is no such tool';
      return refused(`tool "${call.name}" is not available: ${why}`);
    }
    let raw: unknown;
    try {
      raw = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
    } catch {
      return failed(`invalid arguments for ${call.name}: not valid JSON`);
    }
    const parsed = tool.schema.safeParse(raw);
    if (!parsed.success) return failed(`invalid arguments for ${call.name}: ${z.prettifyError(parsed.error).replace(/\n\s*/g, ' ')}`);
    const sats = tool.sats ? Math.max(0, Math.round(tool.sats(parsed.data))) : 0;
    const external = sats > 0 || (tool.isExternal ? tool.isExternal(parsed.data, ctx) : (tool.external ?? true));
    // Throws ToolSuspendedError when the owner must approve first: the loop stops here.
    await gateCall(ctx, { callId: call.id, tool: call.name, external, sats });
    try {
      signal?.throwIfAborted();
      spendFor(ctx, call.name, sats);
      const value = await tool.run(parsed.data, ctx, signal ? { signal } : {});
      return { ok: true, content: typeof value === 'string' ? value : JSON.stringify(value) };
    } catch (error) {
      if (signal?.aborted) throw error instanceof AbortError ? error : new AbortError('tool call aborted', { cause: signal.reason });
      // Not a failure: the loop ends here and resumes in a later tick.
      if (error instanceof ToolSuspendedError) throw error;
      if (error instanceof ToolRefusedError) return refused(error.message);
      if (error instanceof ToolInputError) return failed(error.message);
      // Unexpected failures still go back to the model, by name and message only.
      const e = error instanceof Error ? error : new Error(String(error));
      return failed(`${call.name} failed: ${e.name}: ${e.message}`);
    }
  }
}

function failed(error: string): ToolOutcome {
  return { ok: false, content: JSON.stringify({ error }), error };
}

function refused(error: string): ToolOutcome {
  return { ok: false, refused: true, content: JSON.stringify({ error, refused: true }), error };
}
