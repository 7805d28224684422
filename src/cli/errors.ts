/** Errors the CLI turns into exit codes: user mistakes exit 2 with one line, never a stack trace. */
import { CodedError, type CodedErrorOptions } from '../util/errors.js';

/** Wrong usage or bad input from the user (exit status 2). */
export class UsageError extends CodedError {
  override name = 'UsageError';
  constructor(message: string, options?: ErrorOptions) {
    super('USAGE', message, { ...options, permanent: true });
  }
}

/**
 * A failure that is not the user's fault but is expected and explained (exit status 1 unless given).
 * Its code is CLI_FAILED, or the code of a CodedError `cause` when it wraps one, or one given.
 */
export class CliError extends CodedError {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
    options?: CodedErrorOptions,
  ) {
    super('CLI_FAILED', message, { ...(options?.cause instanceof CodedError ? { code: options.cause.code, permanent: options.cause.permanent } : {}), ...options });
  }
}
