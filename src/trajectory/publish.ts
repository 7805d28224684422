/**
 * The one call the runtime makes per tick, inside the tick's transaction: the signed tick event,
 * the updated session event and the chain state to store. Both events go to the outbox in that same
 * transaction, so a tick is either recorded, chained and queued, or none of these.
 */
import type { NostrEvent } from '../protocol/event.js';
import type { Signer } from '../signer/types.js';
import { nextLink } from './chain.js';
import { tickTemplate } from './format.js';
import type { RedactOptions } from './redact.js';
import type { TickContent } from './schema.js';
import { nextSession, sessionAddress, sessionDay, sessionTemplate } from './session.js';
import type { TickRecord, TrajectoryChain, TrajectoryVisibility } from './types.js';

/** How an agent publishes its trajectory. */
export interface TrajectoryOptions {
  /** The agent's signer. */
  signer: Pick<Signer, 'getPublicKey' | 'signEvent' | 'nip44'>;
  ownerPubkey: string;
  /** Default `private`. */
  visibility?: TrajectoryVisibility;
  /** Public mode only: publish DM texts instead of their hashes. */
  publishBodies?: boolean;
  /** Exact strings to redact besides the built-in patterns (configured API keys …). */
  knownSecrets?: RedactOptions['knownSecrets'];
}

/** What one tick publishes, and the chain state to commit with it. */
export interface TrajectoryEvents {
  tick: NostrEvent;
  session: NostrEvent;
  chain: TrajectoryChain;
  /** The content as published (before encryption), for local display. */
  content: TickContent;
  redactions: number;
}

/**
 * Signs a tick's trajectory events. Pure apart from NIP-44's random nonce: time comes from the record.
 * Throws a plain error when the record is not the agent's, does not follow the chain, or is malformed.
 */
export function trajectoryEvents(record: TickRecord, chain: TrajectoryChain, options: TrajectoryOptions): TrajectoryEvents {
  const agent = options.signer.getPublicKey();
  if (record.agentPubkey !== agent) throw new Error(`tick record is for agent ${record.agentPubkey}, the signer is ${agent}`);
  const visibility = options.visibility ?? 'private';
  const link = nextLink(chain, record.seq);
  const formatted = tickTemplate(record, link, sessionAddress(agent, sessionDay(record.startedAt)), {
    signer: options.signer,
    ownerPubkey: options.ownerPubkey,
    visibility,
    publishBodies: options.publishBodies,
    knownSecrets: options.knownSecrets,
    protectedPubkeys: [agent, options.ownerPubkey],
  });
  const tick = options.signer.signEvent(formatted.template);
  const session = nextSession(chain.session, { id: tick.id, seq: record.seq, startedAt: record.startedAt, endedAt: record.endedAt });
  return {
    tick,
    session: options.signer.signEvent(sessionTemplate(session, visibility)),
    chain: { lastId: tick.id, lastSeq: record.seq, session },
    content: formatted.content,
    redactions: formatted.redactions,
  };
}
