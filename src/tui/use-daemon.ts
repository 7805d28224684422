/**
 * The daemon as React state: the overview polled every `pollMs` (and on demand), and the runtime
 * event stream, re-opened after it drops. A failed overview marks the daemon down until one succeeds.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { DaemonOverview } from '../control/types.js';
import type { RuntimeEvent } from '../runtime/events.js';
import type { ChatControl } from './types.js';

/** What the UI knows about the daemon. */
export interface DaemonState {
  overview?: DaemonOverview;
  /** True after an overview failed, until one succeeds. */
  down: boolean;
  error?: string;
}

/** Waits `ms` unless the signal aborts first. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Polls the overview and follows the event stream of `control`; `onEvent` sees every runtime event. */
export function useDaemon(control: ChatControl, options: { pollMs: number; initial?: DaemonOverview; onEvent: (event: RuntimeEvent) => void }) {
  const [state, setState] = useState<DaemonState>({ overview: options.initial, down: false });
  const onEvent = useRef(options.onEvent);
  onEvent.current = options.onEvent;
  const alive = useRef(true);
  const inFlight = useRef(false);

  const refresh = useCallback(async (): Promise<void> => {
    if (inFlight.current) return;
    inFlight.current = true;
    try {
      const overview = await control.overview();
      if (alive.current) setState({ overview, down: false });
    } catch (error) {
      if (alive.current) setState((s) => ({ ...s, down: true, error: message(error) }));
    } finally {
      inFlight.current = false;
    }
  }, [control]);

  useEffect(() => {
    alive.current = true;
    const stop = new AbortController();
    void (async () => {
      while (!stop.signal.aborted) {
        await refresh();
        await pause(options.pollMs, stop.signal);
      }
    })();
    void (async () => {
      while (!stop.signal.aborted) {
        try {
          for await (const event of control.events({ signal: stop.signal })) {
            onEvent.current(event);
            // State changes and finished ticks change what the overview says (state, budget, last tick).
            if (event.type === 'agent.state' || event.type === 'tick.finished') void refresh();
          }
        } catch {
          // The stream dropped (daemon stopped or restarted): the overview poll says which.
        }
        if (stop.signal.aborted) break;
        await pause(options.pollMs, stop.signal);
        await refresh();
      }
    })();
    return () => {
      alive.current = false;
      stop.abort();
    };
  }, [control, options.pollMs, refresh]);

  return { ...state, refresh };
}
