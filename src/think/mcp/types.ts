/**
 * MCP servers as an agent's tools: how a server is configured (zod, checked wherever a config is
 * read) and the seam between the tool loop and the connections (McpTools). The connections
 * themselves (src/think/mcp/session.ts) go through the official @modelcontextprotocol/sdk client.
 */
import { z } from 'zod';

/** A server's name: what prefixes its tools (`name.tool`). Lowercase letters, digits and `-`. */
export const McpServerNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be 1-32 lowercase letters, digits or "-", starting with a letter or digit');

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name');

/** Limits shared by both transports. */
const limits = {
  /** How long starting the server (spawn or connect, then the MCP handshake and the tool list) may take. */
  startTimeoutMs: z.number().int().min(100).max(300_000).default(15_000),
  /** How long one tool call may take (the tick's own deadline applies too). */
  callTimeoutMs: z.number().int().min(100).max(3_600_000).default(30_000),
};

/** A server started as a child process speaking MCP over stdio. */
export const McpStdioServerSchema = z.strictObject({
  command: z.string().trim().min(1),
  args: z.array(z.string()).default([]),
  /**
   * Variables set for the server, by value. The server gets only these, the names in `passEnv`, and
   * the SDK's safe defaults (HOME, LOGNAME, PATH, SHELL, TERM, USER): never the daemon's whole
   * environment, so AGENT_* secrets and API keys do not leak into it by accident.
   */
  env: z.record(envName, z.string()).default({}),
  /** Names copied from the daemon's environment (AGENT_* names are refused: they are the runtime's secrets). */
  passEnv: z.array(envName.refine((n) => !n.toUpperCase().startsWith('AGENT_'), 'AGENT_* variables are the runtime\'s own and are never passed to a server')).default([]),
  cwd: z.string().min(1).optional(),
  ...limits,
});

/** A server reached over Streamable HTTP. */
export const McpHttpServerSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  /** Sent with every request (e.g. Authorization); redacted from trajectories. */
  headers: z.record(z.string().min(1), z.string()).default({}),
  ...limits,
});

/** One server: stdio (`command`) or Streamable HTTP (`url`). */
export const McpServerSchema = z.union([McpStdioServerSchema, McpHttpServerSchema]);
/** One configured server, defaults applied. */
export type McpServerConfig = z.infer<typeof McpServerSchema>;
/** A stdio server's config. */
export type McpStdioServerConfig = z.infer<typeof McpStdioServerSchema>;
/** An HTTP server's config. */
export type McpHttpServerConfig = z.infer<typeof McpHttpServerSchema>;

/** An agent's servers by name (the agent config's `mcp`). */
export const McpServersSchema = z.record(McpServerNameSchema, McpServerSchema);
/** An agent's servers by name. */
export type McpServers = z.infer<typeof McpServersSchema>;

/** True for a stdio server's config. */
export function isStdioServer(config: McpServerConfig): config is McpStdioServerConfig {
  return 'command' in config;
}

/** A tool a server offers, as listed. */
export interface McpToolInfo {
  server: string;
  tool: string;
  description: string;
  /** The tool's JSON Schema for its arguments (an object schema). */
  inputSchema: Record<string, unknown>;
}

/** What the agent's servers offer now; servers that could not start are listed with why. */
export interface McpListing {
  tools: McpToolInfo[];
  unavailable: Array<{ server: string; error: string }>;
}

/** A tool call's outcome as the model is told it (`content`), never a thrown error (except aborts). */
export interface McpCallOutcome {
  ok: boolean;
  content: string;
  error?: string;
}

/** The agent's MCP servers within one tick. Failures come back as outcomes; only the tick's abort throws. */
export interface McpTools {
  /** Lists every server's tools (starting servers not started yet; a cached list unless a server said it changed). */
  list(options?: { signal?: AbortSignal }): Promise<McpListing>;
  call(server: string, tool: string, args: Record<string, unknown>, options?: { signal?: AbortSignal }): Promise<McpCallOutcome>;
}

/** McpTools for one awake agent, closed (children reaped) when it sleeps. */
export interface McpSession extends McpTools {
  /** Process ids of the stdio servers running now (tests check they are gone after close). */
  pids(): number[];
  close(): Promise<void>;
}
