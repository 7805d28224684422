/**
 * Runtime events: what the engine tells observers (the control API's SSE stream, the TUI, logs)
 * as ticks run and agents change state. Plain JSON-serializable objects; never secrets or keys.
 */
import type { TickRecord, TrajectoryStep, TrajectoryTrigger } from '../trajectory/types.js';
import type { AgentState } from './lifecycle.js';

/** Every runtime event, discriminated by `type`. `agent` is the agent's public key (hex). */
export type RuntimeEvent =
  | { type: 'tick.started'; agent: string; at: number; trigger: TrajectoryTrigger }
  | { type: 'tick.step'; agent: string; at: number; step: TrajectoryStep }
  | { type: 'tick.finished'; agent: string; at: number; record: TickRecord }
  | { type: 'tick.retry'; agent: string; at: number; attempt: number; delayMs: number; error: string }
  | { type: 'agent.state'; agent: string; at: number; from: AgentState; to: AgentState; reason?: string }
  | { type: 'agent.woke'; agent: string; at: number }
  | { type: 'agent.slept'; agent: string; at: number }
  | { type: 'budget.warning'; agent: string; at: number; resource: string; used: number; limit: number }
  | { type: 'budget.exhausted'; agent: string; at: number; resource: string; used: number; limit: number }
  | { type: 'inbound.refused'; agent: string; at: number; reason: string; from?: string; eventId?: string }
  | { type: 'alarm.fired'; agent: string; at: number; scheduleId: number; dueAt: number };

/** The `type` strings of runtime events. */
export type RuntimeEventType = RuntimeEvent['type'];

/** A listener for every event, or for one type. */
export type RuntimeListener<T extends RuntimeEvent = RuntimeEvent> = (event: T) => void;

/**
 * A small typed emitter. Listener errors are caught and reported to `onListenerError` so an
 * observer (a broken SSE client) can never break a tick.
 */
export class RuntimeEvents {
  readonly #all = new Set<RuntimeListener>();
  readonly #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  /** Subscribes to every event; returns the unsubscribe function. */
  subscribe(listener: RuntimeListener): () => void {
    this.#all.add(listener);
    return () => this.#all.delete(listener);
  }

  /** Subscribes to one event type; returns the unsubscribe function. */
  on<K extends RuntimeEventType>(type: K, listener: RuntimeListener<Extract<RuntimeEvent, { type: K }>>): () => void {
    return this.subscribe((event) => {
      if (event.type === type) listener(event as Extract<RuntimeEvent, { type: K }>);
    });
  }

  /** Delivers an event to every listener, synchronously. */
  emit(event: RuntimeEvent): void {
    for (const listener of this.#all) {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }

  /** Listener count (for tests and leak checks). */
  get listenerCount(): number {
    return this.#all.size;
  }
}
