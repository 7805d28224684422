/** Named errors of the think layer; each says what failed and where, and never carries an API key. */

/** Why an LLM call failed, as far as a caller needs to decide what to do next. */
export type LlmErrorKind = 'http' | 'network' | 'timeout' | 'malformed' | 'retry-after-too-long';

/** An LLM endpoint failed: names the endpoint (without credentials) and the HTTP status when there was one. */
export class LlmError extends Error {
  override name = 'LlmError';
  constructor(
    message: string,
    readonly endpoint: string,
    readonly kind: LlmErrorKind,
    readonly status?: number,
    readonly attempts = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The agent's LLM budget refused the call (calls or tokens for the window are used up). */
export class BudgetExceededError extends Error {
  override name = 'BudgetExceededError';
  constructor(
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`LLM budget exceeded: ${reason}`, options);
  }
}

/** A scripted provider could not answer: the script ran out, or a line of it is malformed. */
export class ScriptError extends Error {
  override name = 'ScriptError';
}

/** LLM configuration (env or agent config) is missing or wrong; names the setting. */
export class LlmConfigError extends Error {
  override name = 'LlmConfigError';
}

/** Replaces every occurrence of each secret in `text` with `[redacted]` (empty secrets are ignored). */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** A URL fit for an error message: no user-info, query or fragment (they can hold keys). */
export function describeEndpoint(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
