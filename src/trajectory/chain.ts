/**
 * The chain: every tick event names the previous tick event of its agent (`prev`) and counts itself
 * (`seq`, from 1 without gaps). Dropping, inserting, forking or reordering ticks breaks one of the
 * two, and ids commit to the tags, so nobody without the agent's key can mend the break.
 */
import type { NostrEvent } from '../protocol/event.js';
import { tagValue } from '../protocol/event.js';
import { Kind } from '../protocol/kinds.js';
import { TrajectoryChainSchema } from './schema.js';
import { sessionDay } from './session.js';
import type { TrajectoryChain } from './types.js';

/** The chain of an agent that has not ticked yet. */
export function emptyChain(): TrajectoryChain {
  return { lastId: null, lastSeq: 0, session: null };
}

/** Where a new tick links in: its seq and the id of the tick before it (null for seq 1). */
export interface ChainLink {
  seq: number;
  prev: string | null;
}

/** The link for the next tick; throws when `seq` does not directly follow the chain (a runtime bug). */
export function nextLink(chain: TrajectoryChain, seq: number): ChainLink {
  if (seq !== chain.lastSeq + 1) {
    throw new Error(`tick seq ${seq} does not follow the trajectory chain, whose last seq is ${chain.lastSeq}`);
  }
  return { seq, prev: chain.lastId };
}

/** The chain tags of a tick event: `["seq", n]` and, after the first tick, `["prev", <id>]`. */
export function chainTags(link: ChainLink): string[][] {
  const tags = [['seq', String(link.seq)]];
  if (link.prev !== null) tags.push(['prev', link.prev]);
  return tags;
}

/** Reads stored chain state back (JSON from the runtime's kv); throws a plain error naming the bad field. */
export function parseChain(json: unknown): TrajectoryChain {
  const parsed = TrajectoryChainSchema.safeParse(json);
  if (!parsed.success) throw new Error(`invalid trajectory chain state: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/**
 * Rebuilds the chain state from the agent's own published events (after a restore on a new
 * machine): the head tick and its session. Returns the empty chain when there are no ticks.
 * The events must already have passed verify(); this only picks the head.
 */
export function chainFromEvents(events: readonly NostrEvent[], agentPubkey: string): TrajectoryChain {
  let head: { event: NostrEvent; seq: number } | undefined;
  for (const event of events) {
    if (event.kind !== Kind.TrajectoryTick || event.pubkey !== agentPubkey) continue;
    const seq = Number(tagValue(event, 'seq'));
    if (Number.isSafeInteger(seq) && (!head || seq > head.seq)) head = { event, seq };
  }
  if (!head) return emptyChain();
  const day = (tagValue(head.event, 'a') ?? '').split(':')[2] ?? sessionDay(head.event.created_at * 1000);
  const session = events
    .filter((e) => e.kind === Kind.TrajectorySession && e.pubkey === agentPubkey && tagValue(e, 'd') === day)
    .sort((a, b) => b.created_at - a.created_at)[0];
  const ticks = Number(session ? tagValue(session, 'tick') : NaN);
  const firstSeq = Number(session?.tags.find((t) => t[0] === 'seq')?.[1]);
  const hash = session ? tagValue(session, 'trajectory_hash') : undefined;
  // Only a session that covers the head can be continued; otherwise the next tick opens the day anew.
  if (!session || !hash || firstSeq + ticks - 1 !== head.seq) {
    return { lastId: head.event.id, lastSeq: head.seq, session: null };
  }
  return {
    lastId: head.event.id,
    lastSeq: head.seq,
    session: {
      d: day,
      firstSeq,
      ticks,
      hash,
      startedAt: Number(tagValue(session, 'started_at')),
      endedAt: Number(tagValue(session, 'ended_at')),
      createdAt: session.created_at,
    },
  };
}
