/** Named errors of the MCP layer: each names the server, never its env values or headers. */
import { CodedError } from '../../util/errors.js';

/** Why a server could not be used (the `kind`; the stable `code` is MCP_SERVER_UNAVAILABLE or MCP_CALL_FAILED). */
export type McpErrorKind = 'start-failed' | 'start-timeout' | 'closed' | 'call-timeout' | 'call-failed';

/** A server failed to start, stopped, or a call to it failed. Never fatal to a tick: the model is told. */
export class McpServerError extends CodedError {
  override name = 'McpServerError';
  constructor(
    message: string,
    readonly server: string,
    readonly kind: McpErrorKind,
    options: ErrorOptions = {},
  ) {
    // A server that is down or misconfigured stays so until something changes; a slow call may not.
    super(kind.startsWith('call') ? 'MCP_CALL_FAILED' : 'MCP_SERVER_UNAVAILABLE', message, { ...options, permanent: kind !== 'call-timeout' });
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
