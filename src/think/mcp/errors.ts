/** Named errors of the MCP layer: each names the server, never its env values or headers. */

/** Why a server could not be used. */
export type McpErrorCode = 'mcp-start-failed' | 'mcp-start-timeout' | 'mcp-closed' | 'mcp-call-timeout' | 'mcp-call-failed';

/** A server failed to start, stopped, or a call to it failed. Never fatal to a tick: the model is told. */
export class McpServerError extends Error {
  override name = 'McpServerError';
  constructor(
    message: string,
    readonly server: string,
    readonly code: McpErrorCode,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** A server that is down or misconfigured stays so until something changes: retrying the tick will not help. */
  get permanent(): boolean {
    return this.code !== 'mcp-call-timeout';
  }
}

/** The last `max` characters of a stream's text, for error messages (a server's stderr). */
export class TailBuffer {
  #text = '';
  constructor(private readonly max = 2000) {}

  push(chunk: Buffer | string): void {
    this.#text = (this.#text + chunk.toString()).slice(-this.max);
  }

  /** The tail as one line, or '' when empty. */
  line(): string {
    return this.#text.trim().split('\n').slice(-3).join(' | ').slice(-400);
  }
}
