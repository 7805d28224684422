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
