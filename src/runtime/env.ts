/**
 * What the engine's parts share (storage, clock, logger, events, keys, builders), and turning a
 * tick's outgoing intents into outbox rows: signed once, at commit time, so a rolled-back tick
 * never signs anything that could leak out.
 */
import type { Signer } from '../signer/types.js';
import type { AgentRecord, AgentStorage, NewMessage, OutboxOp, Fence } from '../storage/types.js';
import type { McpSession } from '../think/mcp/types.js';
import type { ThinkProvider } from '../think/types.js';
import type { TrajectoryStep } from '../trajectory/types.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { AgentConfig } from './agent-config.js';
import type { RuntimeEvents } from './events.js';
import type { AgentBehavior, OutboundBuilder, OutboundEntropy, OutboundIntent, TrajectorySink } from './types.js';

/** The engine's dependencies with defaults applied. */
export interface EngineEnv {
  storage: AgentStorage;
  clock: Clock;
  logger: Logger;
  events: RuntimeEvents;
  ownerPubkey: string;
  behaviors: ReadonlyMap<string, AgentBehavior>;
  signerFor: (agentIndex: number) => Signer;
  outbound: OutboundBuilder;
  entropy: (unixSeconds: number) => OutboundEntropy;
  thinkFor?: (agent: AgentRecord, config: AgentConfig) => ThinkProvider | undefined;
  /** The agent's MCP servers while it is awake (closed when it sleeps). */
  mcpFor?: (agent: AgentRecord, config: AgentConfig) => McpSession | undefined;
  trajectory?: TrajectorySink;
  maxConsecutiveFailures: number;
  retryBaseMs: number;
  retryMaxMs: number;
  outboxDeadlineMs: number;
  /** The lease fence of a held agent (many daemons on one database); undefined: not ours to commit. [none: no fencing] */
  fenceFor?: (agentIndex: number) => Fence | undefined;
  /** This daemon's id for lease-filtered queries (alarms). [none: every agent] */
  holder?: string;
}

/** Outbox rows, conversation log entries and ACT steps for a list of intents. */
export interface BuiltOutgoing {
  outbox: OutboxOp[];
  eventIds: string[];
  messages: NewMessage[];
  steps: TrajectoryStep[];
}

/** Signs every intent with the agent's signer and shapes the rows commitTick takes. */
export function buildOutgoing(env: EngineEnv, signer: Signer, intents: readonly OutboundIntent[], now: number): BuiltOutgoing {
  const out: BuiltOutgoing = { outbox: [], eventIds: [], messages: [], steps: [] };
  const entropy = env.entropy(Math.floor(now / 1000));
  for (const intent of intents) {
    const at = env.clock.now();
    const events = env.outbound.build(intent, signer, entropy);
    for (const { event, target } of events) {
      out.outbox.push({ event, target, deadlineAt: now + env.outboxDeadlineMs });
      out.eventIds.push(event.id);
    }
    const peer = intent.type === 'reply' ? intent.to.sender : intent.type === 'dm' ? intent.recipient : undefined;
    const firstId = events[0]?.event.id;
    if (peer) out.messages.push({ peer, direction: 'out', text: intent.text, at: now, ...(firstId ? { eventId: firstId } : {}) });
    out.steps.push({
      type: 'message',
      name: intent.type === 'reply' ? `reply:${intent.to.protocol}` : intent.type,
      at,
      ms: env.clock.now() - at,
      detail: { ...(peer ? { to: peer } : {}), events: events.length, chars: intent.text.length },
    });
  }
  return out;
}

/** Logs through the env's logger under the `runtime` namespace. */
export function log(env: EngineEnv, level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  env.logger.log({ level, ns: 'runtime', msg, ...fields });
}
