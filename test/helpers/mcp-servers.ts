/**
 * Real MCP servers for tests. `EVERYTHING_STDIO` runs @modelcontextprotocol/server-everything (a dev
 * dependency, offline once installed) as a stdio child process; `startEverythingHttp` hosts the
 * same package's server in this process over the SDK's Streamable HTTP transport on 127.0.0.1:0,
 * keeping the McpServer at hand so a test can add a tool (and so make it send list_changed).
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { createServer } from '@modelcontextprotocol/server-everything/dist/server/index.js';
import { ROOT } from './cli.js';

/** The server-everything entry point, for `{ command: process.execPath, args: [EVERYTHING_JS, 'stdio'] }`. */
export const EVERYTHING_JS = `${ROOT}node_modules/@modelcontextprotocol/server-everything/dist/index.js`;

/** The stdio config of server-everything. */
export const EVERYTHING_STDIO = { command: process.execPath, args: [EVERYTHING_JS, 'stdio'] };

/** A running HTTP-hosted server-everything. */
export interface EverythingHttp {
  url: string;
  /** The MCP server of the latest session (the one a test's client opened). */
  server(): McpServer;
  sessions(): number;
  close(): Promise<void>;
}

/** Hosts server-everything over Streamable HTTP at `http://127.0.0.1:<port>/mcp`, one MCP server per session. */
export async function startEverythingHttp(): Promise<EverythingHttp> {
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: McpServer; cleanup: () => void }>();
  let latest: McpServer | undefined;
  const http = createHttpServer((req, res) => {
    void (async () => {
      const id = req.headers['mcp-session-id'];
      const known = typeof id === 'string' ? sessions.get(id) : undefined;
      if (known) return known.transport.handleRequest(req, res);
      if (req.method !== 'POST' || id !== undefined) {
        res.writeHead(id === undefined ? 400 : 404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'no such session' }, id: null }));
        return;
      }
      const { server, cleanup } = createServer();
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => void sessions.set(sid, { transport, server, cleanup: () => cleanup(sid) }),
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      latest = server;
      await server.connect(transport);
      await transport.handleRequest(req, res);
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    server: () => {
      if (!latest) throw new Error('no MCP session was opened yet');
      return latest;
    },
    sessions: () => sessions.size,
    async close() {
      for (const s of sessions.values()) {
        s.cleanup();
        await s.transport.close();
      }
      sessions.clear();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
