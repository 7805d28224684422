/** Named errors of the think layer; each says what failed and where, and never carries an API key. */
import { BudgetExceededError, CodedError, type ErrorCode } from '../util/errors.js';

export { BudgetExceededError };

/** Why an LLM call failed, as far as a caller needs to decide what to do next. */
export type LlmErrorKind = 'http' | 'network' | 'timeout' | 'malformed' | 'retry-after-too-long';

const LLM_CODES: Record<LlmErrorKind, ErrorCode> = {
  http: 'LLM_HTTP',
  network: 'LLM_NETWORK',
  timeout: 'LLM_TIMEOUT',
  malformed: 'LLM_MALFORMED',
  'retry-after-too-long': 'LLM_RETRY_AFTER',
};

/**
 * An LLM endpoint failed: names the endpoint (without credentials) and the HTTP status when there was
 * one. Code by kind; every kind may pass (the endpoint comes back, the key is fixed), so none is
 * permanent: the tick retries and the agent's breaker counts it, as an LLM failing is the agent's fault.
 */
export class LlmError extends CodedError {
  override name = 'LlmError';
  constructor(
    message: string,
    readonly endpoint: string,
    readonly kind: LlmErrorKind,
    readonly status?: number,
    readonly attempts = 1,
    options?: ErrorOptions,
  ) {
    super(LLM_CODES[kind], message, options);
  }
}

/** A scripted provider could not answer: the script ran out, or a line of it is malformed. */
export class ScriptError extends CodedError {
  override name = 'ScriptError';
  constructor(message: string, options?: ErrorOptions) {
    super('LLM_SCRIPT', message, options);
  }
}

/** LLM configuration (env or agent config) is missing or wrong; names the setting. */
export class LlmConfigError extends CodedError {
  override name = 'LlmConfigError';
  constructor(message: string, options?: ErrorOptions) {
    super('LLM_CONFIG_INVALID', message, { ...options, permanent: true });
  }
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
