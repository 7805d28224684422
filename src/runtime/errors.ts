/**
 * Named errors at the runtime's boundaries. Each carries what a caller (CLI, control API, owner DM)
 * needs to say what went wrong; none ever carries key material or message bodies.
 */

/** A daily or per-tick budget is used up; ticks are refused until the window resets. */
export class BudgetExceededError extends Error {
  override name = 'BudgetExceededError';
  constructor(
    readonly resource: string,
    readonly used: number,
    readonly limit: number,
    options?: ErrorOptions,
  ) {
    super(`budget exceeded: ${resource} used ${used} of ${limit}`, options);
  }
}

/** A write would take the agent's stored state past its storage budget; the write is refused. */
export class StorageQuotaError extends Error {
  override name = 'StorageQuotaError';
  constructor(
    readonly usedBytes: number,
    readonly limitBytes: number,
    options?: ErrorOptions,
  ) {
    super(`storage budget exceeded: this write would use ${usedBytes} bytes of ${limitBytes} allowed`, options);
  }
}

/** A tick ran past its max duration and was aborted; nothing it did was committed. */
export class TickTimeoutError extends Error {
  override name = 'TickTimeoutError';
  constructor(
    readonly limitMs: number,
    options?: ErrorOptions,
  ) {
    super(`tick exceeded its max duration of ${limitMs} ms and was aborted`, options);
  }
}

/** The runtime is stopping; the running tick is rolled back and its trigger stays pending. */
export class RuntimeStoppingError extends Error {
  override name = 'RuntimeStoppingError';
  constructor(options?: ErrorOptions) {
    super('runtime is stopping', options);
  }
}

/** No agent with that index or public key. */
export class AgentNotFoundError extends Error {
  override name = 'AgentNotFoundError';
  constructor(
    readonly agent: string,
    options?: ErrorOptions,
  ) {
    super(`no agent "${agent}"`, options);
  }
}

/** A lifecycle change that the agent's current state does not allow (e.g. resume a terminated agent). */
export class AgentStateError extends Error {
  override name = 'AgentStateError';
  constructor(
    readonly agent: string,
    readonly from: string,
    readonly to: string,
    options?: ErrorOptions,
  ) {
    super(`agent ${agent} cannot go from ${from} to ${to}`, options);
  }
}

/** A behavior name that is not in the registry. */
export class UnknownBehaviorError extends Error {
  override name = 'UnknownBehaviorError';
  constructor(
    readonly behavior: string,
    readonly known: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`unknown behavior "${behavior}" (known: ${known.join(', ') || 'none'})`, options);
  }
}

/** A behavior's own code threw; wraps the original as `cause`. */
export class BehaviorError extends Error {
  override name = 'BehaviorError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** One line for logs and owner DMs, from anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`;
  return String(error);
}
