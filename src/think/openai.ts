/**
 * A ThinkProvider over any OpenAI-compatible chat-completions endpoint (Ollama, llama.cpp server,
 * vLLM, LM Studio, OpenAI, OpenRouter): tool calling in the protocol's own format, a per-request
 * timeout joined with the caller's signal, bounded retries on 429/5xx honouring Retry-After.
 */
import { AbortError, systemClock, type Clock } from '../util/clock.js';
import { LlmError, describeEndpoint, redact } from './errors.js';
import { ChatCompletionSchema, ErrorBodySchema, buildRequestBody, toThinkResult, type WireOptions } from './openai-wire.js';
import { backoffDelay, isRetryableStatus, parseRetryAfter, type BackoffOptions } from './retry.js';
import type { ThinkProvider, ThinkRequest, ThinkResult } from './types.js';

/** Options; defaults: 120 s per request, 4 attempts, backoff 0.5 s → 30 s, Retry-After honoured up to 60 s. */
export interface OpenAiProviderOptions extends WireOptions {
  /** e.g. http://127.0.0.1:11434/v1 (`/chat/completions` is appended). */
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs?: number;
  maxAttempts?: number;
  backoff?: Partial<BackoffOptions>;
  /** A server asking to wait longer than this fails the call instead of stalling the tick. */
  maxRetryAfterMs?: number;
  /** Extra headers (e.g. OpenRouter's HTTP-Referer / X-Title). */
  headers?: Record<string, string>;
  clock?: Clock;
  fetch?: typeof fetch;
}

type Attempt = { ok: true; result: ThinkResult } | { ok: false; error: LlmError; retry: boolean; waitMs?: number };

/** Chat completions over fetch. */
export class OpenAiProvider implements ThinkProvider {
  readonly name: string;
  readonly #url: string;
  readonly #endpoint: string;
  readonly #opts: OpenAiProviderOptions;
  readonly #clock: Clock;
  readonly #backoff: BackoffOptions;

  constructor(options: OpenAiProviderOptions) {
    this.#opts = options;
    this.#url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    this.#endpoint = describeEndpoint(this.#url);
    this.#clock = options.clock ?? systemClock;
    this.#backoff = { baseMs: 500, maxMs: 30_000, random: Math.random, ...options.backoff };
    this.name = `openai:${options.model}`;
  }

  async think(request: ThinkRequest, options: { signal?: AbortSignal } = {}): Promise<ThinkResult> {
    const body = buildRequestBody(request, this.#opts.model, this.#opts);
    const maxAttempts = Math.max(1, this.#opts.maxAttempts ?? 4);
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(options.signal);
      const outcome = await this.#attempt(body, options.signal);
      if (outcome.ok) return outcome.result;
      if (!outcome.retry || attempt >= maxAttempts) throw withAttempts(outcome.error, attempt);
      const wait = outcome.waitMs ?? backoffDelay(attempt, this.#backoff);
      const maxWait = this.#opts.maxRetryAfterMs ?? 60_000;
      if (wait > maxWait) {
        throw new LlmError(
          `${outcome.error.message}; the server asked to retry after ${Math.ceil(wait / 1000)} s (more than the ${Math.ceil(maxWait / 1000)} s allowed)`,
          this.#endpoint, 'retry-after-too-long', outcome.error.status, attempt, { cause: outcome.error },
        );
      }
      await this.#clock.sleep(wait, options);
    }
  }

  async #attempt(body: Record<string, unknown>, callerSignal: AbortSignal | undefined): Promise<Attempt> {
    const timeout = AbortSignal.timeout(this.#opts.timeoutMs ?? 120_000);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...this.#opts.headers };
    if (this.#opts.apiKey) headers.authorization = `Bearer ${this.#opts.apiKey}`;
    let status = 0;
    let text: string;
    let response: Response;
    try {
      response = await (this.#opts.fetch ?? fetch)(this.#url, { method: 'POST', headers, body: JSON.stringify(body), signal });
      status = response.status;
      text = await response.text();
    } catch (cause) {
      if (callerSignal?.aborted) throw new AbortError('LLM call aborted', { cause: callerSignal.reason });
      const during = status ? ` (HTTP ${status}, reading the body)` : '';
      if (timeout.aborted) {
        return { ok: false, retry: true, error: this.#error(`timed out after ${this.#opts.timeoutMs ?? 120_000} ms${during}`, 'timeout', status || undefined) };
      }
      const reason = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
      return { ok: false, retry: true, error: this.#error(`network error${during}: ${this.#clean(reason)}`, 'network', status || undefined) };
    }
    if (!response.ok) {
      const error = this.#error(`HTTP ${status}${this.#serverMessage(text)}`, 'http', status);
      return { ok: false, retry: isRetryableStatus(status), error, waitMs: parseRetryAfter(response.headers, this.#clock.now()) };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      return { ok: false, retry: false, error: this.#error(`HTTP ${status} with a body that is not JSON: ${this.#clean(text.slice(0, 80))}`, 'malformed', status, cause) };
    }
    const parsed = ChatCompletionSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const where = issue.path.length ? ` at ${issue.path.join('.')}` : '';
      return { ok: false, retry: false, error: this.#error(`HTTP ${status} with an unexpected response shape: ${issue.message}${where}`, 'malformed', status, parsed.error) };
    }
    return { ok: true, result: toThinkResult(parsed.data, body) };
  }

  #error(detail: string, kind: LlmError['kind'], status?: number, cause?: unknown): LlmError {
    return new LlmError(`LLM request to ${this.#endpoint} failed: ${detail}`, this.#endpoint, kind, status, 1, cause === undefined ? undefined : { cause });
  }

  /** A short server-supplied reason, with the key scrubbed in case the server echoes it. */
  #serverMessage(text: string): string {
    let message = text.trim();
    try {
      const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
      if (parsed.success) message = typeof parsed.data.error === 'string' ? parsed.data.error : parsed.data.error.message;
    } catch {
      // not JSON: use the raw text
    }
    message = this.#clean(message.replace(/\s+/g, ' ').slice(0, 300));
    return message ? ` (${message})` : '';
  }

  #clean(text: string): string {
    return redact(text, [this.#opts.apiKey]);
  }
}

function withAttempts(error: LlmError, attempts: number): LlmError {
  if (attempts === 1) return error;
  return new LlmError(`${error.message} (after ${attempts} attempts)`, error.endpoint, error.kind, error.status, attempts, { cause: error.cause });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError('LLM call aborted', { cause: signal.reason });
}
