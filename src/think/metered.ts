/**
 * A decorator that reports every LLM call (duration, success, tokens) to an observer: how the
 * daemon's metrics see LLM use without the think layer knowing about Prometheus. It keeps the inner
 * provider's name, so what an agent says about its model does not change.
 */
import type { ThinkProvider, ThinkRequest, ThinkResult } from './types.js';

/** One finished call. `outcome` is `ok`, `aborted` (the tick's deadline or a stop) or `error`. */
export interface LlmCallObservation {
  ms: number;
  outcome: 'ok' | 'aborted' | 'error';
  inputTokens: number;
  outputTokens: number;
}

/** Calls through to `inner` and tells `observe` how each call went; observer errors are swallowed. */
export class MeteredProvider implements ThinkProvider {
  readonly name: string;

  constructor(
    private readonly inner: ThinkProvider,
    private readonly observe: (call: LlmCallObservation) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.name = inner.name;
  }

  async think(request: ThinkRequest, options: { signal?: AbortSignal } = {}): Promise<ThinkResult> {
    const started = this.now();
    const report = (call: Omit<LlmCallObservation, 'ms'>): void => {
      try {
        this.observe({ ms: this.now() - started, ...call });
      } catch {
        // Metrics must never fail a tick.
      }
    };
    try {
      const result = await this.inner.think(request, options);
      report({ outcome: 'ok', inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens });
      return result;
    } catch (error) {
      report({ outcome: options.signal?.aborted ? 'aborted' : 'error', inputTokens: 0, outputTokens: 0 });
      throw error;
    }
  }
}
