/**
 * One MCP server for one awake agent, through the official SDK client: started on first use (or
 * warmed when the agent wakes), its tool list cached until the server says it changed
 * (`notifications/tools/list_changed`), calls bounded by the server's call timeout and the tick's
 * signal, and stopped with its whole process tree reaped. A server that fails to start is retried
 * with backoff (5 s doubling to 5 min), not on every call; one that stops is started again on the
 * next use.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { AbortError } from '../../util/clock.js';
import { serverEnv } from './env.js';
import { McpServerError, TailBuffer } from './errors.js';
import { processTree, reapTree } from './reap.js';
import { formatToolResult } from './result.js';
import { isStdioServer, type McpCallOutcome, type McpServerConfig, type McpToolInfo } from './types.js';

/** The most tools one server may offer (pages are read until this many). */
export const MAX_TOOLS_PER_SERVER = 200;
const CLIENT_INFO = { name: 'nostr-agent-runtime', version: '0.1.0' };

/** What a connection needs besides its config. */
export interface McpConnectionOptions {
  /** The daemon's environment, read only for the config's `passEnv` names. */
  env: Readonly<Record<string, string | undefined>>;
  now?: () => number;
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

interface Live {
  client: Client;
  transport: Transport & { pid?: number | null };
  /** Kept from the spawn: the SDK forgets it as soon as it starts closing. */
  pid?: number;
  tools?: McpToolInfo[];
  stale: boolean;
}

/** One server. Not re-entrant per call site, but safe for a warm-up racing the tick's first use. */
export class McpConnection {
  #live: Live | undefined;
  #starting: Promise<Live> | undefined;
  #failure: { error: McpServerError; at: number; attempts: number } | undefined;
  #closed = false;
  readonly #stderr = new TailBuffer();
  readonly #now: () => number;

  constructor(
    readonly name: string,
    readonly config: McpServerConfig,
    private readonly options: McpConnectionOptions,
  ) {
    this.#now = options.now ?? Date.now;
  }

  /** The process id of a running stdio server. */
  pid(): number | undefined {
    return this.#live?.pid;
  }

  /** The server's tools (cached); throws McpServerError when it cannot be started, AbortError when `signal` aborts. */
  async tools(signal?: AbortSignal): Promise<McpToolInfo[]> {
    const live = await this.#ready(signal);
    if (live.tools && !live.stale) return live.tools;
    live.stale = false;
    try {
      live.tools = await this.#list(live, signal);
    } catch (error) {
      if (signal?.aborted) throw new AbortError('MCP listing aborted', { cause: signal.reason });
      throw this.#callError(error, 'listing its tools');
    }
    return live.tools;
  }

  /** Calls a tool; every failure but the tick's abort becomes an error outcome for the model. */
  async call(tool: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<McpCallOutcome> {
    let live: Live;
    try {
      live = await this.#ready(signal);
    } catch (error) {
      if (error instanceof McpServerError) return failed(error.message);
      throw error;
    }
    try {
      const result = await live.client.callTool({ name: tool, arguments: args }, undefined, {
        timeout: this.config.callTimeoutMs,
        ...(signal ? { signal } : {}),
      });
      return formatToolResult(this.name, tool, result);
    } catch (error) {
      if (signal?.aborted) throw new AbortError('MCP call aborted', { cause: signal.reason });
      return failed(this.#callError(error, `calling ${tool}`).message);
    }
  }

  /** Warms the server up in the background (errors are kept for the first use). */
  warm(): void {
    this.#ready().catch(() => {});
  }

  /** Stops the server and reaps its process tree; later calls fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const live = this.#live ?? (await this.#starting?.catch(() => undefined));
    this.#live = undefined;
    if (live) await this.#stop(live);
  }

  async #ready(signal?: AbortSignal): Promise<Live> {
    if (this.#closed) throw new McpServerError(`MCP server "${this.name}" is closed`, this.name, 'closed');
    if (this.#live) return this.#live;
    if (!this.#starting) {
      const failure = this.#failure;
      if (failure && this.#now() < failure.at + Math.min(5000 * 2 ** (failure.attempts - 1), 300_000)) throw failure.error;
      this.#starting = this.#start().then(
        (live) => {
          this.#starting = undefined;
          this.#failure = undefined;
          if (this.#closed) {
            void this.#stop(live);
            throw new McpServerError(`MCP server "${this.name}" is closed`, this.name, 'closed');
          }
          this.#live = live;
          return live;
        },
        (error: McpServerError) => {
          this.#starting = undefined;
          this.#failure = { error, at: this.#now(), attempts: (this.#failure?.attempts ?? 0) + 1 };
          this.options.log?.('MCP server failed to start', { server: this.name, error: error.message });
          throw error;
        },
      );
    }
    return raceAbort(this.#starting, signal);
  }

  async #start(): Promise<Live> {
    const [{ Client }, { ToolListChangedNotificationSchema }] = await Promise.all([import('@modelcontextprotocol/sdk/client/index.js'), import('@modelcontextprotocol/sdk/types.js')]);
    const transport = await this.#transport();
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    const live: Live = { client, transport, stale: false };
    const start = transport.start.bind(transport);
    transport.start = async () => {
      await start();
      if (transport.pid) live.pid = transport.pid;
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      live.stale = true;
    });
    client.onclose = () => {
      // The server went away: the next use starts it again.
      if (this.#live === live) this.#live = undefined;
    };
    client.onerror = (error) => this.options.log?.('MCP transport error', { server: this.name, error: error.message });
    const timeout = AbortSignal.timeout(this.config.startTimeoutMs);
    try {
      await client.connect(transport, { timeout: this.config.startTimeoutMs, signal: timeout });
      live.tools = await this.#list(live, timeout);
      return live;
    } catch (error) {
      await this.#stop(live);
      if (timeout.aborted || (error as { code?: number })?.code === -32001) {
        throw new McpServerError(`MCP server "${this.name}" did not start within ${this.config.startTimeoutMs} ms${this.#tail()}`, this.name, 'start-timeout', { cause: error });
      }
      throw new McpServerError(`MCP server "${this.name}" failed to start: ${reason(error)}${this.#tail()}`, this.name, 'start-failed', { cause: error });
    }
  }

  async #transport(): Promise<Live['transport']> {
    const config = this.config;
    if (isStdioServer(config)) {
      const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
      const transport = new StdioClientTransport({
        command: config.command,
        args: config.args,
        env: serverEnv(config, this.options.env),
        ...(config.cwd ? { cwd: config.cwd } : {}),
        stderr: 'pipe',
      });
      // Drained so a chatty server never blocks on a full pipe; the tail goes into error messages.
      transport.stderr?.on('data', (chunk: Buffer) => this.#stderr.push(chunk));
      return transport;
    }
    const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    return new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers: config.headers } });
  }

  async #list(live: Live, signal?: AbortSignal): Promise<McpToolInfo[]> {
    const out: McpToolInfo[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20 && out.length < MAX_TOOLS_PER_SERVER; page++) {
      const result = await live.client.listTools(cursor ? { cursor } : undefined, { timeout: this.config.startTimeoutMs, ...(signal ? { signal } : {}) });
      for (const tool of result.tools) {
        const { $schema: _ignored, ...schema } = (tool.inputSchema ?? {}) as Record<string, unknown>;
        out.push({ server: this.name, tool: tool.name, description: (tool.description ?? tool.title ?? '').slice(0, 1024), inputSchema: { ...schema, type: 'object' } });
      }
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    return out.slice(0, MAX_TOOLS_PER_SERVER);
  }

  #callError(error: unknown, what: string): McpServerError {
    const code = (error as { code?: number })?.code;
    if (code === -32001) return new McpServerError(`MCP server "${this.name}" did not answer ${what} within ${this.config.callTimeoutMs} ms`, this.name, 'call-timeout', { cause: error });
    if (code === -32000 || !this.#live) return new McpServerError(`MCP server "${this.name}" stopped while ${what}${this.#tail()}`, this.name, 'closed', { cause: error });
    return new McpServerError(`MCP server "${this.name}" failed ${what}: ${reason(error)}`, this.name, 'call-failed', { cause: error });
  }

  #tail(): string {
    const tail = this.#stderr.line();
    return tail ? ` (stderr: ${tail})` : '';
  }

  async #stop(live: Live): Promise<void> {
    const tree = live.pid ? processTree(live.pid) : [];
    try {
      const maybeHttp = live.transport as { terminateSession?: () => Promise<void> };
      if (maybeHttp.terminateSession) await raceTimeout(maybeHttp.terminateSession(), 3000);
    } catch {
      // the session may already be gone
    }
    // The SDK ends stdin (a well-behaved server exits on that) and waits up to 4 s before its own
    // SIGTERM; past half a second the tree is signalled here instead.
    await raceTimeout(live.client.close(), 500).catch(() => {});
    await reapTree(tree, 500);
  }
}

function failed(error: string): McpCallOutcome {
  return { ok: false, content: JSON.stringify({ error }), error };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]).finally(() => clearTimeout(timer));
}

/** Waits for `promise`, or rejects with AbortError when `signal` aborts first (the promise goes on). */
function raceAbort<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new AbortError('aborted', { cause: signal.reason }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortError('aborted', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}
