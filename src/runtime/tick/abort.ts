/**
 * The tick's abort: one signal the behavior sees, fired by whichever comes first of the agent's
 * max tick duration (a TickTimeoutError: the tick fails) and the engine's signal (runtime
 * stopping, agent terminated: the tick rolls back). The behavior may ignore its signal, so the
 * run is raced against it rather than trusted to return.
 */
import { CANCELLED, type Clock } from '../../util/clock.js';
import { RuntimeStoppingError, TickTimeoutError } from '../errors.js';

/** The armed abort of one tick; `disarm` stops the timer and the engine listener once the behavior has settled. */
export interface TickAbort {
  signal: AbortSignal;
  disarm(): void;
}

/** Arms the timeout and follows the engine's signal (already aborted: the tick's is too). */
export function armAbort(clock: Clock, hostSignal: AbortSignal, maxTickMs: number): TickAbort {
  const controller = new AbortController();
  const timer = new AbortController();
  const onHostAbort = (): void => controller.abort(hostSignal.reason ?? new RuntimeStoppingError());
  hostSignal.addEventListener('abort', onHostAbort, { once: true });
  if (hostSignal.aborted) onHostAbort();
  clock.sleep(maxTickMs, { signal: timer.signal }).then(
    () => controller.abort(new TickTimeoutError(maxTickMs)),
    () => {},
  );
  return {
    signal: controller.signal,
    disarm: () => {
      timer.abort(CANCELLED);
      hostSignal.removeEventListener('abort', onHostAbort);
    },
  };
}

/** Whether an abort means roll back (the engine's), as opposed to a timeout (a failed tick). */
export function abortedByHost(signal: AbortSignal): boolean {
  return signal.aborted && !(signal.reason instanceof TickTimeoutError);
}

/** Runs `fn` but settles as soon as `signal` aborts (the behavior may ignore its signal). */
export function untilAborted<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    fn().then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
