/**
 * The one wake loop: it runs the engine's housekeeping (fire due alarms into the inbox, release
 * deferred retries, hibernate idle agents, start ticks), then sleeps on the Clock until the
 * earliest thing due, or until kicked. One loop for all agents: a dormant agent costs no timer.
 */
import { CANCELLED, type Clock } from '../util/clock.js';

/** The longest single sleep; the loop re-checks at least this often (also keeps setTimeout in range). */
export const MAX_SLEEP_MS = 60_000;

/** What a health check needs to know of the loop. */
export interface WakeLoopStatus {
  running: boolean;
  /** When the last pass ended (ms, the loop's clock); undefined before the first. */
  lastPassAt?: number;
  passes: number;
}

/** A loop around `body(now) → next wake time (ms) or undefined`. */
export class WakeLoop {
  readonly #stop = new AbortController();
  #kick: AbortController | undefined;
  #done: Promise<void> | undefined;
  #lastPassAt: number | undefined;
  #passes = 0;

  constructor(
    private readonly clock: Clock,
    private readonly body: (now: number) => Promise<number | undefined>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Starts the loop (once). */
  start(): void {
    this.#done ??= this.#run();
  }

  /** Whether the loop runs and when it last finished a pass (a pass happens at least every MAX_SLEEP_MS). */
  status(): WakeLoopStatus {
    return { running: this.#done !== undefined && !this.#stop.signal.aborted, passes: this.#passes, ...(this.#lastPassAt !== undefined ? { lastPassAt: this.#lastPassAt } : {}) };
  }

  /** Runs the body again now (something changed: a trigger arrived, a tick ended). */
  kick(): void {
    this.#kick?.abort(CANCELLED);
  }

  /** Stops the loop and waits for the current pass to end. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#kick?.abort(CANCELLED);
    await this.#done;
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      // Armed before the body runs, so a kick during the body is not lost.
      const kick = new AbortController();
      this.#kick = kick;
      let next: number | undefined;
      try {
        next = await this.body(this.clock.now());
      } catch (error) {
        this.onError(error);
        next = this.clock.now() + 1000;
      }
      this.#passes++;
      this.#lastPassAt = this.clock.now();
      if (this.#stop.signal.aborted) break;
      if (kick.signal.aborted) continue;
      const ms = next === undefined ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, next - this.clock.now());
      if (ms <= 0) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      try {
        await this.clock.sleep(ms, { signal: kick.signal });
      } catch {
        // kicked or stopped: run the body again (or exit)
      }
    }
  }
}
