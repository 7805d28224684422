/**
 * The tool loop: think → run the tool calls the model asked for → feed the results back → until
 * the model answers without tools or the step limit is reached. Every think call and every tool
 * call becomes a trajectory step; the signal cancels a call in flight and stops the loop.
 */
import type { TrajectoryStep } from '../trajectory/types.js';
import { AbortError, systemClock, type Clock } from '../util/clock.js';
import { ToolSuspendedError, type ToolDispatcher, type ToolOutcome } from './tools/types.js';
import type { ThinkMessage, ThinkProvider, ThinkRequest, ThinkResult, ThinkUsage } from './types.js';

/** Inputs; `maxSteps` (think calls, default 8) bounds the loop. */
export interface ToolLoopOptions {
  provider: ThinkProvider;
  /** System prompt and conversation so far; `tools` is replaced by the dispatcher's specs. */
  request: ThinkRequest;
  tools?: ToolDispatcher;
  maxSteps?: number;
  onStep?: (step: TrajectoryStep) => void;
  signal?: AbortSignal;
  clock?: Pick<Clock, 'now'>;
}

/** What the loop produced: the final text, the conversation with the new turns, summed usage. */
export interface ToolLoopResult {
  /** The model's last text ('' if it never wrote any). */
  text: string;
  /** `request.messages` followed by every assistant and tool message of this loop. */
  messages: ThinkMessage[];
  usage: ThinkUsage;
  thinkCalls: number;
  toolCalls: number;
  /**
   * `final`: the model answered; `step-limit`: it was still calling tools when the limit was reached;
   * `suspended`: a tool must wait outside the tick (see `suspended`).
   */
  stopReason: 'final' | 'step-limit' | 'suspended';
  /**
   * Set when a tool suspended the loop: the call waiting for its result (no `tool` message for it is
   * in `messages` yet: append one to resume) and what the tool asked for.
   */
  suspended?: { callId: string; tool: string; detail: Record<string, unknown> };
}

/** The default bound on think calls per loop. */
export const DEFAULT_MAX_STEPS = 8;

/** Runs the loop; throws what the provider throws (LlmError, BudgetExceededError, AbortError…). */
export async function runToolLoop(options: ToolLoopOptions): Promise<ToolLoopResult> {
  const { provider, tools, signal } = options;
  const clock = options.clock ?? systemClock;
  const emit = options.onStep ?? (() => {});
  const maxSteps = Math.max(1, options.maxSteps ?? DEFAULT_MAX_STEPS);
  const messages: ThinkMessage[] = [...options.request.messages];
  const usage: ThinkUsage = { inputTokens: 0, outputTokens: 0 };
  let text = '';
  let toolCalls = 0;

  for (let step = 1; step <= maxSteps; step++) {
    if (signal?.aborted) throw new AbortError('tool loop aborted', { cause: signal.reason });
    const request: ThinkRequest = { ...options.request, messages: [...messages] };
    if (tools && tools.specs.length > 0) request.tools = tools.specs;
    else delete request.tools;
    const at = clock.now();
    let result: ThinkResult;
    try {
      result = await provider.think(request, signal ? { signal } : {});
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      emit({ type: 'think', at, ms: clock.now() - at, name: provider.name, detail: { ok: false, error: `${e.name}: ${e.message}` } });
      throw error;
    }
    usage.inputTokens += result.usage.inputTokens;
    usage.outputTokens += result.usage.outputTokens;
    if (result.usage.estimated) usage.estimated = true;
    if (result.text !== undefined) text = result.text;
    const calls = result.toolCalls ?? [];
    emit({
      type: 'think', at, ms: clock.now() - at, name: provider.name,
      tokens: { input: result.usage.inputTokens, output: result.usage.outputTokens },
      detail: { ok: true, step, toolCalls: calls.map((c) => c.name) },
    });
    messages.push({ role: 'assistant', content: result.text ?? null, ...(calls.length ? { toolCalls: calls } : {}) });
    if (calls.length === 0) return { text, messages, usage, thinkCalls: step, toolCalls, stopReason: 'final' };

    for (const call of calls) {
      const started = clock.now();
      // The name comes from the model: keep it short in the trajectory.
      const name = call.name.slice(0, 64);
      let outcome: ToolOutcome;
      try {
        outcome = tools
          ? await tools.call(call, signal ? { signal } : {})
          : { ok: false, refused: true, error: 'no tools are available', content: JSON.stringify({ error: 'no tools are available' }) };
      } catch (error) {
        if (error instanceof ToolSuspendedError) {
          const shown = typeof error.detail.tool === 'string' ? error.detail.tool : name;
          const why = error.detail.kind === 'approval' ? { approval: true } : {};
          emit({ type: 'tool', at: started, ms: clock.now() - started, name: shown, detail: { ok: true, callId: call.id, suspended: true, ...why } });
          // Every other call of this turn needs an answer before the model is called again.
          for (const other of calls.slice(calls.indexOf(call) + 1)) {
            const why = `not run: the turn ended while ${name} waits; call ${other.name} again if it is still needed`;
            messages.push({ role: 'tool', toolCallId: other.id, content: JSON.stringify({ error: why }) });
          }
          const suspended = { callId: call.id, tool: shown, detail: error.detail };
          return { text, messages, usage, thinkCalls: step, toolCalls: toolCalls + 1, stopReason: 'suspended', suspended };
        }
        const e = error instanceof Error ? error : new Error(String(error));
        emit({ type: 'tool', at: started, ms: clock.now() - started, name, detail: { ok: false, callId: call.id, error: `${e.name}: ${e.message}` } });
        throw error;
      }
      toolCalls++;
      emit({
        type: 'tool', at: started, ms: clock.now() - started, name: outcome.name ?? name,
        detail: { ok: outcome.ok, callId: call.id, ...(outcome.refused ? { refused: true } : {}), ...(outcome.error ? { error: outcome.error } : {}), ...outcome.detail },
      });
      messages.push({ role: 'tool', toolCallId: call.id, content: outcome.content });
    }
  }
  return { text, messages, usage, thinkCalls: maxSteps, toolCalls, stopReason: 'step-limit' };
}
