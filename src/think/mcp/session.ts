/**
 * The MCP servers of one awake agent: one connection each, listed together, closed together when
 * the agent sleeps or the daemon stops. A server that cannot start is reported in the listing
 * (its tools are missing, the others still work); nothing here fails the agent.
 */
import { AbortError } from '../../util/clock.js';
import { McpConnection, type McpConnectionOptions } from './connection.js';
import { McpServerError } from './errors.js';
import type { McpCallOutcome, McpListing, McpServers, McpSession } from './types.js';

/** Opens a session over `servers` (nothing is started until `warm` or the first use). */
export function createMcpSession(servers: McpServers, options: McpConnectionOptions): McpSession & { warm(): void } {
  const connections = new Map(Object.entries(servers).map(([name, config]) => [name, new McpConnection(name, config, options)]));
  return {
    warm() {
      for (const c of connections.values()) c.warm();
    },
    async list({ signal } = {}): Promise<McpListing> {
      const listing: McpListing = { tools: [], unavailable: [] };
      const results = await Promise.allSettled([...connections.values()].map((c) => c.tools(signal)));
      if (signal?.aborted) throw new AbortError('MCP listing aborted', { cause: signal.reason });
      [...connections.keys()].forEach((server, i) => {
        const r = results[i]!;
        if (r.status === 'fulfilled') listing.tools.push(...r.value);
        else listing.unavailable.push({ server, error: r.reason instanceof McpServerError ? r.reason.message : `MCP server "${server}" failed: ${String((r.reason as Error)?.message ?? r.reason)}` });
      });
      return listing;
    },
    async call(server, tool, args, { signal } = {}): Promise<McpCallOutcome> {
      const connection = connections.get(server);
      if (!connection) {
        const error = `there is no MCP server "${server}"`;
        return { ok: false, content: JSON.stringify({ error }), error };
      }
      return connection.call(tool, args, signal);
    },
    pids() {
      return [...connections.values()].map((c) => c.pid()).filter((p): p is number => p !== undefined);
    },
    async close() {
      await Promise.allSettled([...connections.values()].map((c) => c.close()));
    },
  };
}
