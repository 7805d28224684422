/**
 * MCP tools in the tool loop: the agent's granted MCP tools are offered next to the built-in ones
 * under their wire names (names.ts), with the servers' own JSON schemas; a call is mapped back,
 * checked against the allowlist (a refused call is answered and recorded like any other), and sent
 * to its server with the tick's signal. Arguments and result go into the trajectory step.
 */
import type { ToolCall, ToolSpec } from '../types.js';
import { gateCall } from '../tools/approval.js';
import type { ToolContext, ToolDispatcher, ToolOutcome } from '../tools/types.js';
import { grantsMcpTool, qualifiedName, serverOfEntry, wireNames } from './names.js';
import type { McpListing } from './types.js';

/** How much of the arguments and result a trajectory step keeps. */
const DETAIL_CHARS = 2000;

/** The built-in dispatcher plus the agent's MCP tools (listed now: servers start here if they have not yet). */
export async function withMcpTools(builtin: ToolDispatcher, ctx: ToolContext): Promise<ToolDispatcher> {
  const mcp = ctx.mcp;
  if (!mcp) return builtin;
  const at = ctx.now();
  const listing = await mcp.list(ctx.signal ? { signal: ctx.signal } : {});
  const granted = ctx.capabilities.tools;
  const known = [...listing.tools, ...placeholders(listing, granted)];
  const table = wireNames(known, builtin.specs.map((s) => s.name));
  const byWire = new Map<string, (typeof known)[number]>();
  const specs: ToolSpec[] = [...builtin.specs];
  for (const [wire, ref] of table) {
    const info = known.find((t) => t.server === ref.server && t.tool === ref.tool)!;
    byWire.set(wire, info);
    if (grantsMcpTool(granted, info.server, info.tool)) specs.push({ name: wire, description: info.description, parameters: info.inputSchema });
  }
  ctx.recordStep({
    type: 'tool', at, ms: ctx.now() - at, name: 'mcp.list',
    detail: { tools: listing.tools.length, offered: specs.length - builtin.specs.length, ...(listing.unavailable.length ? { unavailable: listing.unavailable } : {}) },
  });
  return {
    specs,
    async call(call: ToolCall, options): Promise<ToolOutcome> {
      const info = byWire.get(call.name);
      if (!info) return builtin.call(call, options);
      const name = qualifiedName(info.server, info.tool);
      const signal = options?.signal ?? ctx.signal;
      if (!grantsMcpTool(ctx.capabilities.tools, info.server, info.tool)) {
        const error = `tool "${name}" is not available: it is not granted to this agent`;
        return { ok: false, refused: true, content: JSON.stringify({ error, refused: true }), error, name };
      }
      let args: unknown;
      try {
        args = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
      } catch {
        const error = `invalid arguments for ${name}: not valid JSON`;
        return { ok: false, content: JSON.stringify({ error }), error, name };
      }
      if (typeof args !== 'object' || args === null || Array.isArray(args)) {
        const error = `invalid arguments for ${name}: expected a JSON object`;
        return { ok: false, content: JSON.stringify({ error }), error, name };
      }
      signal?.throwIfAborted();
      // Every MCP call acts outside the agent: the autonomy gate may want the owner's approval first.
      await gateCall(ctx, { callId: call.id, tool: name, external: true, sats: 0 });
      const outcome = await mcp.call(info.server, info.tool, args as Record<string, unknown>, signal ? { signal } : {});
      return {
        ...outcome,
        name,
        detail: { server: info.server, arguments: clip(call.arguments), result: clip(outcome.content) },
      };
    },
  };
}

/** Exact grants (`server.tool`) of servers that could not start: offered so a call gets the server's error. */
function placeholders(listing: McpListing, granted: readonly string[]): McpListing['tools'] {
  const down = new Map(listing.unavailable.map((u) => [u.server, u.error]));
  const out: McpListing['tools'] = [];
  for (const entry of granted) {
    const server = serverOfEntry(entry);
    if (!server || !down.has(server) || entry === `${server}.*`) continue;
    out.push({
      server,
      tool: entry.slice(server.length + 1),
      description: `An MCP tool of server "${server}", which is not available right now (${down.get(server)!.slice(0, 200)}).`,
      inputSchema: { type: 'object', additionalProperties: true },
    });
  }
  return out;
}

function clip(text: string): string {
  return text.length > DETAIL_CHARS ? `${text.slice(0, DETAIL_CHARS)}…` : text;
}
