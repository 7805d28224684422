/**
 * Named errors at the runtime's boundaries (CodedErrors: a stable `code`, `permanent`, `cause`).
 * Each carries what a caller (CLI, control API, owner DM) needs to say what went wrong; none ever
 * carries key material or message bodies.
 */
import { BudgetExceededError, CodedError, type CodedErrorOptions } from '../util/errors.js';

export { BudgetExceededError };

/** A tick ran past its max duration and was aborted; nothing it did was committed. */
export class TickTimeoutError extends CodedError {
  override name = 'TickTimeoutError';
  constructor(
    readonly limitMs: number,
    options?: ErrorOptions,
  ) {
    super('TICK_TIMEOUT', `tick exceeded its max duration of ${limitMs} ms and was aborted`, { ...options, permanent: true });
  }
}

/** The runtime is stopping; the running tick is rolled back and its trigger stays pending. */
export class RuntimeStoppingError extends CodedError {
  override name = 'RuntimeStoppingError';
  constructor(options?: ErrorOptions) {
    super('RUNTIME_STOPPING', 'runtime is stopping', options);
  }
}

/** No agent with that index or public key. */
export class AgentNotFoundError extends CodedError {
  override name = 'AgentNotFoundError';
  constructor(
    readonly agent: string,
    options?: ErrorOptions,
  ) {
    super('AGENT_NOT_FOUND', `no agent "${agent}"`, { ...options, permanent: true });
  }
}

/** A lifecycle change that the agent's current state does not allow (e.g. resume a terminated agent). */
/** The agent has no webhook of that name (or is terminated): the URL leads nowhere. */
export class WebhookNotFoundError extends CodedError {
  override name = 'WebhookNotFoundError';
  constructor(
    readonly agent: string,
    readonly hook: string,
    options?: ErrorOptions,
  ) {
    super('WEBHOOK_NOT_FOUND', `agent "${agent}" has no webhook "${hook}"`, { ...options, permanent: true });
  }
}

/** A webhook delivery seen before (its id, or its signed body): thrown inside the transaction to roll it back. */
export class WebhookReplayError extends CodedError {
  override name = 'WebhookReplayError';
  constructor(
    readonly hook: string,
    readonly deliveryId: string,
  ) {
    super('WEBHOOK_REPLAY', `webhook "${hook}" delivery "${deliveryId}" (or its signed body) was accepted before`, { permanent: true });
  }
}

export class AgentStateError extends CodedError {
  override name = 'AgentStateError';
  constructor(
    readonly agent: string,
    readonly from: string,
    readonly to: string,
    options?: ErrorOptions,
  ) {
    super('AGENT_STATE', `agent ${agent} cannot go from ${from} to ${to}`, { ...options, permanent: true });
  }
}

/** A behavior name that is not in the registry. */
export class UnknownBehaviorError extends CodedError {
  override name = 'UnknownBehaviorError';
  constructor(
    readonly behavior: string,
    readonly known: readonly string[],
    options?: ErrorOptions,
  ) {
    super('UNKNOWN_BEHAVIOR', `unknown behavior "${behavior}" (known: ${known.join(', ') || 'none'})`, { ...options, permanent: true });
  }
}

/** A behavior's own code failed; wraps the original as `cause` (transient unless said otherwise). */
export class BehaviorError extends CodedError {
  override name = 'BehaviorError';
  constructor(message: string, options?: CodedErrorOptions) {
    super('BEHAVIOR_FAILED', message, options);
  }
}

/** One line for logs and owner DMs, from anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`;
  return String(error);
}
