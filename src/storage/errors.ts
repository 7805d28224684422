/** Named errors thrown at the storage boundary (CodedErrors: callers read `code`, never class names). */
import { CodedError } from '../util/errors.js';

/** Bad input handed to a store: names the field and what was wrong. */
export class StorageInputError extends CodedError {
  override name = 'StorageInputError';
  constructor(message: string, options?: ErrorOptions) {
    super('STORAGE_INVALID', message, { ...options, permanent: true });
  }
}

/**
 * A write would push an agent past its storage-bytes budget; nothing was written. The one class for
 * the concept: the tick buffer throws it before the commit, the stores at commit time.
 */
export class StorageBudgetExceededError extends CodedError {
  override name = 'StorageBudgetExceededError';
  constructor(
    readonly agentIndex: number,
    readonly usedBytes: number,
    readonly limitBytes: number,
    options?: ErrorOptions,
  ) {
    super('STORAGE_BUDGET_EXCEEDED', `storage budget exceeded: this write would use ${usedBytes} bytes of ${limitBytes} allowed`, { ...options, permanent: true });
  }
}

/** A named record (agent, schedule, inbox row) does not exist. */
export class StorageNotFoundError extends CodedError {
  override name = 'StorageNotFoundError';
  constructor(message: string, options?: ErrorOptions) {
    super('STORAGE_NOT_FOUND', message, { ...options, permanent: true });
  }
}

/** A uniqueness rule was broken (agent name taken, a trigger already handled, …). */
export class StorageConflictError extends CodedError {
  override name = 'StorageConflictError';
  constructor(message: string, options?: ErrorOptions) {
    super('STORAGE_CONFLICT', message, { ...options, permanent: true });
  }
}

/** The seam used wrongly: a call on the storage inside its own transaction, on a finished transaction handle, or after close. A bug. */
export class StorageMisuseError extends CodedError {
  override name = 'StorageMisuseError';
  constructor(message: string, options?: ErrorOptions) {
    super('STORAGE_MISUSE', message, { ...options, permanent: true });
  }
}

/**
 * The database could not be opened: a bad URL, an unreachable or refusing server, or a schema newer
 * than the code. The message is one line naming the database (password masked, see `maskDatabaseUrl`);
 * the CLI prints it and exits 2.
 */
export class DatabaseOpenError extends CodedError {
  override name = 'DatabaseOpenError';
  constructor(code: 'DATABASE_URL_INVALID' | 'DATABASE_UNAVAILABLE' | 'DATABASE_SCHEMA_NEWER', message: string, options?: ErrorOptions) {
    super(code, message, { ...options, permanent: true });
  }
}

/**
 * The agent's lease moved to another daemon (or was released): this daemon's fence no longer holds,
 * so its tick commit or outbox delivery was refused and nothing was written. Not the agent's fault
 * and not retried here: the trigger stays pending for the new holder.
 */
export class LeaseLostError extends CodedError {
  override name = 'LeaseLostError';
  constructor(
    readonly agentIndex: number,
    readonly daemonId: string,
    readonly epoch: number,
    options?: ErrorOptions,
  ) {
    super('LEASE_LOST', `agent ${agentIndex}: daemon ${daemonId} no longer holds its lease (epoch ${epoch}); nothing was written, the new holder runs the trigger`, { ...options, permanent: true });
  }
}
