/**
 * Phase 5, finish: what follows a committed tick, outside its transaction because none of it
 * may be undone: the live agent's `onWake` is spent and its idle clock restarts, and observers
 * get `tick.finished` (plus budget and state events). Looking at the agent's inbox again (the
 * next trigger's wake) is the engine's, once runTick has returned.
 */
import type { Committed } from '../commit.js';
import { emitCommitted } from '../failure.js';
import type { CommitHost } from './host.js';
import type { PreparedTick } from './prepare.js';
import type { Ran } from './run.js';

/** Post-commit effects of a tick that ran. */
export function finish(host: CommitHost, tick: PreparedTick, ran: Ran, committed: Committed): void {
  const { env } = host;
  ran.live.wakePending = false;
  ran.live.lastActiveAt = env.clock.now();
  emitCommitted(env, tick.base.record, committed);
}
