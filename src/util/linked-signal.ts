import type { Clock } from './clock.js';

/**
 * A signal that aborts when any of `signals` does, and lets go of them at `dispose()`.
 *
 * Why not `AbortSignal.any`: on Node 20 each call leaves a WeakRef in every source signal's set of
 * dependants that is never removed, so a long-lived source (the outbox publisher's stop signal, a
 * connection's lifetime) grew by one entry per publish or sleep: a heap snapshot of a daemon that had
 * published 2,000 claims held 2,000 WeakRefs there. Listeners removed at dispose leave nothing behind.
 */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Removes the listeners on the sources (call when the wait is over). */
  dispose(): void;
}

/**
 * Sleeps on `clock` until `ms` pass or one of `signals` aborts (then rejects, as `clock.sleep` does),
 * and lets go of the signals either way: what every wait on a long-lived signal needs.
 */
export async function sleepLinked(clock: Clock, ms: number, ...signals: Array<AbortSignal | undefined>): Promise<void> {
  const link = linkSignals(...signals);
  try {
    await clock.sleep(ms, { signal: link.signal });
  } finally {
    link.dispose();
  }
}

/** Links `signals` (undefined entries are skipped). */
export function linkSignals(...signals: Array<AbortSignal | undefined>): LinkedSignal {
  const controller = new AbortController();
  const sources = signals.filter((s): s is AbortSignal => s !== undefined);
  const already = sources.find((s) => s.aborted);
  if (already) {
    controller.abort(already.reason);
    return { signal: controller.signal, dispose: () => {} };
  }
  const onAbort = (event: Event): void => {
    dispose();
    controller.abort((event.target as AbortSignal).reason);
  };
  const dispose = (): void => {
    for (const s of sources) s.removeEventListener('abort', onAbort);
  };
  for (const s of sources) s.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, dispose };
}
