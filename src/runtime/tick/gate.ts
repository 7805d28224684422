/**
 * Phase 2, gate: whether this trigger may run the agent's behavior at all, decided before the
 * agent is woken so a refused trigger costs no wake, no LLM and no signer. In order: an owner
 * command runs as a control tick (even while paused or failed); an agent that does not run ticks
 * leaves the trigger waiting; a rate-limited sender, a non-owner `/approve`, an exhausted daily
 * budget are refused as recorded ticks; a payload too large to read is an input failure.
 */
import type { DailyUsage } from '../../storage/types.js';
import { describeMark, dailyLimits, exhaustedMetric, nextUtcMidnight, utcDay } from '../budget.js';
import type { ControlInput } from '../control.js';
import type { FailureInput } from '../failure.js';
import { runsTicks } from '../lifecycle.js';
import { slowDownText } from '../policy.js';
import type { OutboundIntent } from '../types.js';
import { InputError } from '../../util/errors.js';
import type { GateHost } from './host.js';
import type { PreparedTick } from './prepare.js';

/** The day's ledger as the tick starts: the tick's budget view is this plus its own use. */
export interface Ledger {
  day: string;
  usedBefore: DailyUsage;
}

export type Gate =
  | { type: 'pass'; ledger: Ledger }
  | { type: 'control'; control: ControlInput }
  /** Paused, failed or creating: the trigger stays pending until the agent runs ticks again. */
  | { type: 'waits' }
  | { type: 'refused'; reason: string; intents: OutboundIntent[] }
  | { type: 'failed'; failure: FailureInput };

/** Decides the trigger's path; reads only the budget ledger. */
export async function gate(host: GateHost, tick: PreparedTick): Promise<Gate> {
  const { env } = host;
  const { parsed, base, entry, index } = tick;
  if (parsed.ownerCommand && parsed.trigger.type === 'dm') return { type: 'control', control: { ...base, entry, command: parsed.ownerCommand, message: parsed.trigger.inbound } };
  if (!runsTicks(base.record.state)) return { type: 'waits' };
  if (parsed.slowDown && (parsed.trigger.type === 'dm' || parsed.trigger.type === 'mention')) {
    const text = slowDownText(parsed.slowDown.retryAfterMs);
    return { type: 'refused', reason: 'rate-limited', intents: [{ type: 'reply', to: parsed.trigger.inbound, text }] };
  }
  // Approving is the owner's alone: anyone else's `/approve` or `/deny` is refused, as a recorded tick.
  if (parsed.approvalRefused) return { type: 'refused', reason: 'approval commands are accepted only from the owner', intents: [] };
  const day = utcDay(base.startedAt);
  // Only this agent's ticks add to the day's ledger, one at a time, so what it says now is exact.
  const usedBefore = await env.storage.budget.get(index, day);
  const exhausted = exhaustedMetric(usedBefore, dailyLimits(base.config.budget));
  if (exhausted) {
    const reason = `budget exhausted: ${describeMark(exhausted)}; refused until ${new Date(nextUtcMidnight(base.startedAt)).toISOString()}`;
    return { type: 'refused', reason, intents: [] };
  }
  const source = base.source;
  if (source?.tooLarge) {
    const error = new InputError('INPUT_TOO_LARGE', `a ${source.tooLarge.chars}-character ${source.protocol} payload (at most ${source.tooLarge.limit} are read)`);
    return { type: 'failed', failure: { ...base, entry, steps: [], error, retryable: false } };
  }
  return { type: 'pass', ledger: { day, usedBefore } };
}
