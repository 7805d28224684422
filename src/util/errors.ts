/**
 * The one error taxonomy. Every named error at a boundary is a CodedError: a stable `code` (for
 * machines: the CLI's `--json` errors, the control API, retry decisions), a `permanent` flag (trying
 * again with the same input fails the same way) and an `input` flag (the trigger's input caused it,
 * so anyone who can DM the agent can provoke it: such a failure is refused, never retried and never
 * counted against the agent). Decisions read these through `errorCode`/`isPermanent`/`isInputFault`,
 * never class names. Protocol code throws plain `Error`s; boundaries wrap them with `cause`.
 */

/** Every stable error code and what it means. Add a line when a new concept needs one; never rename one. */
export const ERROR_CODES = {
  INTERNAL: 'an unexpected error (a bug): no named error describes it',
  ABORTED: 'the operation was aborted (a signal fired: stop, timeout, the caller gave up)',
  INPUT_TOO_LARGE: 'a message or the answer to it is too large to handle; the sender is told',
  INPUT_UNDECODABLE: 'a message or event could not be decoded (malformed, undecryptable, forged)',
  BUDGET_EXCEEDED: "a daily or per-tick budget (compute, LLM calls, tokens, sats) is used up",
  STORAGE_BUDGET_EXCEEDED: "a write would take the agent's stored state past its storage budget",
  STORAGE_INVALID: 'bad input handed to a store (names the field)',
  STORAGE_NOT_FOUND: 'a stored record (agent, schedule, inbox row) does not exist',
  STORAGE_CONFLICT: 'a uniqueness rule was broken, or a trigger was already handled',
  STORAGE_MISUSE: 'the storage seam was used wrongly (a bug): outside its transaction handle, after the transaction ended, or after close',
  DATABASE_URL_INVALID: 'a database URL (--database, AGENT_DATABASE_URL, config database.url) is malformed or names no supported engine',
  DATABASE_UNAVAILABLE: 'the database could not be opened or reached (missing file, unreachable server, bad credentials)',
  DATABASE_SCHEMA_NEWER: "the database's schema is newer than this code knows: upgrade the runtime (nothing was changed)",
  TICK_TIMEOUT: "a tick ran past its max duration and was aborted",
  RUNTIME_STOPPING: 'the runtime is stopping; the work is rolled back and done later',
  AGENT_NOT_FOUND: 'no agent with that name, index or public key',
  AGENT_STATE: "the agent's state does not allow the change (e.g. resume a terminated agent)",
  AGENT_CONFIG_INVALID: "an agent's stored or given config does not parse",
  UNKNOWN_BEHAVIOR: 'a behavior name that is not registered',
  BEHAVIOR_INVALID: 'a behavior definition is not usable (defineAgent)',
  BEHAVIOR_FAILED: "a behavior's own code failed",
  LLM_HTTP: 'the LLM endpoint answered with an HTTP error',
  LLM_NETWORK: 'the LLM endpoint could not be reached',
  LLM_TIMEOUT: 'the LLM endpoint did not answer in time',
  LLM_MALFORMED: 'the LLM endpoint answered with something that is not a valid completion',
  LLM_RETRY_AFTER: 'the LLM endpoint asked to wait longer than allowed before retrying',
  LLM_CONFIG_INVALID: 'LLM settings (env or agent config) are missing or wrong',
  LLM_SCRIPT: 'a scripted LLM ran out of lines or has a malformed one',
  TOOL_REFUSED: "a tool call the agent's capabilities do not allow",
  TOOL_SUSPENDED: 'a tool must wait for something outside the tick (a delegation)',
  TOOL_FAILED: 'a tool failed in an expected way (bad arguments, HTTP error); the model is told',
  MCP_SERVER_UNAVAILABLE: 'an MCP server could not be started or reached, or it stopped; its tools answer with an error',
  MCP_CALL_FAILED: 'an MCP tool call failed or timed out; the model is told',
  CONFIG_INVALID: 'a config file is missing a field, has a wrong value, or is not JSON',
  KEYS_INVALID: 'the mnemonic or keys file is missing, invalid or cannot be read',
  WRONG_PASSPHRASE: 'a sealed box could not be opened: wrong passphrase or damaged data',
  USAGE: 'wrong command-line usage or bad input from the user',
  CLI_FAILED: 'a command failed for an expected, explained reason',
  REPLY_TIMEOUT: 'the agent did not reply within the timeout (`agent send`)',
  DAEMON_UNAVAILABLE: 'no daemon is running for this home (or it cannot be reached)',
  LEASE_LOST: "this daemon no longer holds the agent's lease (another daemon took it over): the tick or delivery was refused, nothing written",
  DAEMON_RUNNING: 'another daemon already runs on this SQLite home (SQLite is single-daemon; many daemons share PostgreSQL)',
  CONTROL_BAD_REQUEST: 'a control API request is malformed',
  CONTROL_UNAUTHORIZED: 'a control API request without the right token',
  CONTROL_FORBIDDEN: 'a control API request for another host (DNS rebinding) was refused',
  CONTROL_NOT_FOUND: 'no such control API endpoint or resource',
  CONTROL_CONFLICT: 'a control API request conflicts with the current state',
  CONTROL_FAILED: 'a control API request failed on the daemon side',
  WATCH_INVALID: 'a watch filter is malformed or too broad (names no ids, authors or tag), or its relay is not a relay URL',
  WATCH_NOT_FOUND: 'the agent has no watch with that id',
  WEBHOOK_NOT_FOUND: 'the agent has no webhook of that name (the URL leads nowhere)',
  WEBHOOK_EXISTS: 'the agent already has a webhook of that name',
  WEBHOOK_BAD_SIGNATURE: 'a webhook request without a valid X-Signature-256 (HMAC-SHA256 of the body with the hook secret)',
  WEBHOOK_REPLAY: 'a webhook delivery already accepted (same X-Delivery-Id, or the same signed body): nothing was queued again',
  WEBHOOK_RATE_LIMITED: 'too many webhook deliveries for this hook: retry after the Retry-After seconds',
  WEBHOOK_BAD_REQUEST: 'a webhook request that is not a POST of a JSON body with an X-Delivery-Id',
  SNAPSHOT_NOT_FOUND: "no snapshot of the agent (or no registry of the owner's agents) on the relays asked",
  SNAPSHOT_CHUNK_MISSING: "a chunk the agent's snapshot manifest lists is on none of the relays",
  SNAPSHOT_BAD_SIGNATURE: 'a snapshot event whose id or signature does not verify',
  SNAPSHOT_WRONG_AUTHOR: "a snapshot event signed by another key than the agent's (or the owner's, for the registry)",
  SNAPSHOT_TAMPERED: 'a snapshot event whose ciphertext does not decrypt, or whose plaintext does not match the hash in the manifest',
  SNAPSHOT_VERSION_UNKNOWN: 'a snapshot in a format version this runtime does not know',
  SNAPSHOT_INVALID: 'a snapshot part that decrypts but is not what the format says (names the field)',
  RESTORE_HOME_NOT_EMPTY: 'agent restore into a home that already has agents (pass --force to replace them)',
  AGENT_HELD: 'the agent is held: another machine wrote a newer snapshot or trajectory head (agent takeover NAME runs it here)',
} as const;

/** A stable error code (see ERROR_CODES). */
export type ErrorCode = keyof typeof ERROR_CODES;

/** How a CodedError is made: why (`cause`), and the flags when they differ from the class's default. */
export interface CodedErrorOptions extends ErrorOptions {
  /** A more specific code than the class's default. */
  code?: ErrorCode;
  /** Trying again with the same input fails the same way (default: the class's; input faults always are). */
  permanent?: boolean;
  /** The trigger's input caused it, not the agent (default false). */
  input?: boolean;
}

/** The base of every named error: `code`, `permanent`, `input`, `cause`. */
export class CodedError extends Error {
  override name = 'CodedError';
  readonly code: ErrorCode;
  readonly permanent: boolean;
  readonly input: boolean;
  constructor(code: ErrorCode, message: string, options: CodedErrorOptions = {}) {
    const { code: specific, permanent, input, ...errorOptions } = options;
    super(message, errorOptions);
    this.code = specific ?? code;
    this.input = input ?? false;
    this.permanent = this.input || (permanent ?? false);
  }
}

/**
 * A failure caused by a trigger's input (too large to answer, undecodable): permanent, and never
 * counted toward the agent's consecutive-failure breaker, which is for the agent's own faults.
 */
export class InputError extends CodedError {
  override name = 'InputError';
  constructor(code: 'INPUT_TOO_LARGE' | 'INPUT_UNDECODABLE', message: string, options: ErrorOptions = {}) {
    super(code, message, { ...options, input: true });
  }
}

/** What a budget refusal names: the resource, and the use and limit when they are numbers. */
export interface BudgetExceededDetail {
  used?: number;
  limit?: number;
}

/** A daily or per-tick budget is used up (sats, LLM calls, tokens…): refused until the window resets. */
export class BudgetExceededError extends CodedError {
  override name = 'BudgetExceededError';
  readonly used: number | undefined;
  readonly limit: number | undefined;
  /** `resource` names what is used up (`sats`, `llmCalls`, `LLM`), `reason` how (`used 2 of 2`). */
  constructor(
    readonly resource: string,
    readonly reason: string,
    options: BudgetExceededDetail & ErrorOptions = {},
  ) {
    const { used, limit, ...errorOptions } = options;
    super('BUDGET_EXCEEDED', `budget exceeded: ${resource} ${reason}`, { ...errorOptions, permanent: true });
    this.used = used;
    this.limit = limit;
  }
}

/** The stable code of anything thrown: its own, ABORTED for platform aborts, else INTERNAL. */
export function errorCode(error: unknown): ErrorCode {
  if (error instanceof CodedError) return error.code;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'AbortError' || name === 'TimeoutError') return 'ABORTED';
  return 'INTERNAL';
}

/**
 * Whether trying again cannot help: a CodedError's flag; programming errors (TypeError, RangeError,
 * SyntaxError, ReferenceError) fail the same way every time; anything else may be transient.
 */
export function isPermanent(error: unknown): boolean {
  if (error instanceof CodedError) return error.permanent;
  return error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError || error instanceof ReferenceError;
}

/** Whether the trigger's input caused the failure (then it is refused, not counted against the agent). */
export function isInputFault(error: unknown): boolean {
  return error instanceof CodedError && error.input;
}
