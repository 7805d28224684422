/** Errors the CLI turns into exit codes: user mistakes exit 2 with one line, never a stack trace. */

/** Wrong usage or bad input from the user (exit status 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A failure that is not the user's fault but is expected and explained (exit status 1). */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
