/**
 * The UI's view of the daemon: a ChatControl over the home's control files that re-reads them
 * after a failure, so `agent chat` reconnects by itself when the daemon is restarted (possibly on
 * another port with another token).
 */
import { ControlClient, readControlInfo } from '../control/client.js';
import type { DaemonOverview } from '../control/types.js';
import type { RuntimeEvent } from '../runtime/events.js';
import type { TickRecord } from '../trajectory/types.js';
import type { ChatControl } from './types.js';
import { CodedError } from '../util/errors.js';

/** Names the daemon's absence in an error the UI shows. */
export class DaemonUnavailableError extends CodedError {
  override name = 'DaemonUnavailableError';
  constructor(message: string, options?: ErrorOptions) {
    super('DAEMON_UNAVAILABLE', message, options);
  }
}

/** A ChatControl for the daemon of `home`; `client` is the one already connected, if any. */
export function homeControl(home: string, client?: ControlClient): ChatControl {
  let current = client;
  const get = (): ControlClient => {
    if (current) return current;
    const found = readControlInfo(home);
    if (!found) throw new DaemonUnavailableError(`no control.json/control.token in ${home}`);
    current = new ControlClient(found.info.url, found.token);
    return current;
  };
  const forget = (used: ControlClient): void => {
    if (current === used) current = undefined;
  };
  return {
    async overview(options?: { signal?: AbortSignal }): Promise<DaemonOverview> {
      const used = get();
      try {
        return await used.overview({ signal: options?.signal ?? AbortSignal.timeout(5000) });
      } catch (error) {
        forget(used);
        throw error;
      }
    },
    async *events(options?: { signal?: AbortSignal }): AsyncGenerator<RuntimeEvent> {
      const used = get();
      try {
        yield* used.events({ signal: options?.signal });
      } finally {
        forget(used);
      }
    },
    async ticks(ref: string, limit: number, options?: { signal?: AbortSignal }): Promise<TickRecord[]> {
      const used = get();
      // The tick list endpoint is newer than the client: use it only where the client has it.
      const list = (used as Partial<Pick<ChatControl, 'ticks'>>).ticks;
      if (typeof list !== 'function') return [];
      return list.call(used, ref, limit, options);
    },
  };
}
