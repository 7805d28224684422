/** Named errors thrown at the storage boundary (callers match on `name` or `instanceof`). */

/** Bad input handed to a store: names the field and what was wrong. */
export class StorageInputError extends Error {
  override name = 'StorageInputError';
}

/** A tick's writes would push an agent past its storage-bytes budget; nothing was written. */
export class StorageBudgetExceededError extends Error {
  override name = 'StorageBudgetExceededError';
  constructor(
    readonly agentIndex: number,
    readonly usedBytes: number,
    readonly limitBytes: number,
    options?: ErrorOptions,
  ) {
    super(`agent ${agentIndex} storage budget exceeded: ${usedBytes} bytes would exceed the limit of ${limitBytes}`, options);
  }
}

/** A named record (agent, schedule, inbox row) does not exist. */
export class StorageNotFoundError extends Error {
  override name = 'StorageNotFoundError';
}

/** A uniqueness rule was broken (agent name taken, …). */
export class StorageConflictError extends Error {
  override name = 'StorageConflictError';
}
