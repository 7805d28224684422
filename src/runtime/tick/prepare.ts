/**
 * Phase 1, prepare: the agent row, its config and the trigger, read and checked before anything
 * runs. A config or trigger that does not parse is a failed tick (never retried: it would fail
 * the same way); an agent gone or terminated since the trigger was queued is no tick at all.
 */
import type { InboundMessage } from '../../relay/types.js';
import type { AgentRecord, InboxEntry, NewMessage } from '../../storage/types.js';
import type { TrajectoryTrigger } from '../../trajectory/types.js';
import { parseAgentConfig, type AgentConfig } from '../agent-config.js';
import type { FailureInput } from '../failure.js';
import { parseTrigger, trajectoryTrigger, type ParsedTrigger } from '../triggers.js';
import type { Trigger } from '../types.js';
import type { PrepareHost } from './host.js';

/** The facts every record of this tick carries, whatever its outcome (spread into commit, failure and refusal inputs). */
export interface TickBase {
  record: AgentRecord;
  config: AgentConfig;
  startedAt: number;
  trigger: TrajectoryTrigger;
  /** The received message, for the conversation log. */
  inbound?: NewMessage;
  /** The DM or mention the trigger carried (an input refusal answers it). */
  source?: InboundMessage;
}

/** A tick whose agent, config and trigger are known. */
export interface PreparedTick {
  index: number;
  entry: InboxEntry;
  parsed: ParsedTrigger;
  base: TickBase;
}

export type Prepared = { type: 'gone' } | { type: 'failed'; failure: FailureInput } | { type: 'ready'; tick: PreparedTick };

/** The conversation-log row for a trigger that carries a message. */
function inboundLog(trigger: Trigger, at: number): NewMessage | undefined {
  if (trigger.type !== 'dm' && trigger.type !== 'mention' && trigger.type !== 'manual') return undefined;
  if (!trigger.message.text) return undefined;
  return { peer: trigger.message.sender, direction: 'in', text: trigger.message.text, at, ...(trigger.message.eventId ? { eventId: trigger.message.eventId } : {}) };
}

/**
 * Loads and parses what the tick is about; emits `tick.started` once the trigger is known. `known`
 * is the agent row the engine read a moment ago as it picked the trigger (one read per DM, not two).
 */
export async function prepare(host: PrepareHost, index: number, entry: InboxEntry, known?: AgentRecord): Promise<Prepared> {
  const { env } = host;
  const startedAt = env.clock.now();
  const record = known ?? (await env.storage.agents.get(index));
  if (!record || record.state === 'terminated') return { type: 'gone' };
  let config: AgentConfig;
  let parsed: ParsedTrigger;
  try {
    config = parseAgentConfig({ ...record.config, behavior: record.behavior }, record.name);
  } catch (error) {
    const fallback = parseAgentConfig({ behavior: record.behavior });
    return { type: 'failed', failure: { record, config: fallback, entry, startedAt, trigger: { type: entry.trigger, at: startedAt }, steps: [], error, retryable: false } };
  }
  try {
    parsed = parseTrigger(entry, env.ownerPubkey);
  } catch (error) {
    return { type: 'failed', failure: { record, config, entry, startedAt, trigger: { type: entry.trigger, at: startedAt }, steps: [], error, retryable: false } };
  }
  const trigger = trajectoryTrigger(parsed.trigger, startedAt);
  env.events.emit({ type: 'tick.started', agent: record.pubkey, at: startedAt, trigger });
  const inbound = inboundLog(parsed.trigger, startedAt);
  const source = parsed.trigger.type === 'dm' || parsed.trigger.type === 'mention' ? parsed.trigger.inbound : undefined;
  const base: TickBase = { record, config, startedAt, trigger, ...(inbound ? { inbound } : {}), ...(source ? { source } : {}) };
  return { type: 'ready', tick: { index, entry, parsed, base } };
}
