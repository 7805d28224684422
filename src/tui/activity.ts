/**
 * What each agent is doing, folded from the control API's runtime events: whether a tick runs and
 * which step it is on, the last ticks (for the trajectory view), and the latest notice worth showing.
 */
import type { RuntimeEvent } from '../runtime/events.js';
import type { TickRecord, TrajectoryStep, TrajectoryTrigger } from '../trajectory/types.js';
import { duration } from './text.js';

/** One agent's live activity. */
export interface AgentActivity {
  /** Set while a tick runs. */
  busy?: { since: number; trigger: TrajectoryTrigger['type']; step?: TrajectoryStep };
  /** The latest ticks, oldest first, at most `TICKS_KEPT`. */
  ticks: TickRecord[];
  lastTickAt?: number;
  /** The latest warning or refusal, in words. */
  notice?: { at: number; text: string };
}

/** Activity per agent public key. */
export type ActivityMap = Readonly<Record<string, AgentActivity>>;

/** How many ticks per agent the UI keeps in memory. */
export const TICKS_KEPT = 50;

const EMPTY: AgentActivity = { ticks: [] };

/** Adds ticks (from events or the daemon's tick list), deduped by seq, sorted, capped. */
export function mergeTicks(current: readonly TickRecord[], more: readonly TickRecord[]): TickRecord[] {
  const bySeq = new Map<number, TickRecord>();
  for (const t of [...current, ...more]) bySeq.set(t.seq, t);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(-TICKS_KEPT);
}

function notice(event: RuntimeEvent): string | undefined {
  switch (event.type) {
    case 'tick.retry':
      return `tick failed, retry ${event.attempt} in ${duration(event.delayMs)}: ${event.error}`;
    case 'budget.warning':
      return `budget: ${event.resource} at ${Math.floor((event.used / event.limit) * 100)}% of today's limit`;
    case 'budget.exhausted':
      return `budget: ${event.resource} used up for today; ticks are refused until the window resets`;
    case 'inbound.refused':
      return `refused a message: ${event.reason}`;
    case 'agent.state':
      return event.to === 'failed' ? `failed${event.reason ? `: ${event.reason}` : ''} (recover with \`agent recover\`)` : undefined;
    default:
      return undefined;
  }
}

/** The activity after one runtime event (unchanged identity when the event changes nothing). */
export function applyEvent(map: ActivityMap, event: RuntimeEvent): ActivityMap {
  const current = map[event.agent] ?? EMPTY;
  let next: AgentActivity = current;
  if (event.type === 'tick.started') next = { ...current, busy: { since: event.at, trigger: event.trigger.type } };
  else if (event.type === 'tick.step') next = { ...current, busy: { since: current.busy?.since ?? event.at, trigger: current.busy?.trigger ?? 'manual', step: event.step } };
  else if (event.type === 'tick.finished') {
    next = { ...current, busy: undefined, ticks: mergeTicks(current.ticks, [event.record]), lastTickAt: event.record.endedAt };
  } else if (event.type === 'tick.retry') next = { ...current, busy: undefined };
  const text = notice(event);
  if (text) next = { ...next, notice: { at: event.at, text } };
  return next === current ? map : { ...map, [event.agent]: next };
}

/** Adds ticks fetched from the daemon for one agent. */
export function withTicks(map: ActivityMap, agent: string, ticks: readonly TickRecord[]): ActivityMap {
  const current = map[agent] ?? EMPTY;
  const merged = mergeTicks(current.ticks, ticks);
  const last = merged.at(-1);
  return { ...map, [agent]: { ...current, ticks: merged, lastTickAt: Math.max(current.lastTickAt ?? 0, last?.endedAt ?? 0) || undefined } };
}
