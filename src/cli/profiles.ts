/**
 * Publishing what makes agents reachable by ordinary clients, at daemon start and when an agent is
 * created: each agent's kind 0 (bot + NIP-AE owner tag), 10002 and 10050, and the owner's 14199
 * list. Existing events are fetched in batches (one REQ per 200 authors, not one per agent) and only
 * what differs goes into the outbox, so a restart with nothing changed publishes nothing. A first
 * run with many new agents is paced: one batch per `batchIntervalMs`, so the outbox sees a steady
 * stream (~600 events a second by default) instead of thousands of events at once while the new
 * agents' create ticks compete for the same CPU.
 */
import type { EventTemplate, NostrEvent } from '../protocol/event.js';
import { Kind } from '../protocol/kinds.js';
import { agentProfileTemplates, ownerAgentListTemplate, sameAs } from '../relay/profile.js';
import type { WsRelayPool } from '../relay/relay-pool.js';
import type { Signer } from '../signer/types.js';
import type { AgentStorage } from '../storage/types.js';
import { systemClock, type Clock } from '../util/clock.js';

/** One agent to publish. */
export interface ProfileSubject {
  signer: Signer;
  name: string;
  about?: string;
  relays: string[];
}

/**
 * The agents of a run, built one batch at a time: a start's check of 10,000 agents held every
 * subject (signer, name, relays) for the ~50 s it is paced over, 1.8 MB of heap the daemon's memory
 * sample still saw; the daemon keeps their indexes instead and builds each batch when it is due.
 */
export interface ProfileSubjects {
  readonly count: number;
  at(i: number): ProfileSubject;
}

const BATCH = 200;
/** Pause between two batches of agents [1 s]: at most 3 × BATCH events queued per second. */
export const PROFILE_BATCH_INTERVAL_MS = 1000;
const DAY_MS = 86_400_000;

function newest(events: NostrEvent[], pubkey: string, kind: number): NostrEvent | undefined {
  let best: NostrEvent | undefined;
  for (const e of events) if (e.pubkey === pubkey && e.kind === kind && (!best || e.created_at > best.created_at)) best = e;
  return best;
}

async function enqueueIfChanged(storage: Pick<AgentStorage, 'outbox'>, signer: Signer, template: EventTemplate, current: NostrEvent | undefined, relays: string[], now: number): Promise<boolean> {
  if (sameAs(template, current)) return false;
  const createdAt = Math.max(template.created_at, (current?.created_at ?? 0) + 1);
  const event = signer.signEvent({ ...template, created_at: createdAt });
  // Nobody waits for a profile or relay list: it must not go ahead of a reply.
  await storage.outbox.enqueue({ agentPubkey: signer.getPublicKey(), event, target: { type: 'relays', relays }, lane: 'background', now, deadlineAt: now + DAY_MS });
  return true;
}

/** A fetch gives up after 10 s, or when the caller aborts. */
function fetchSignal(signal?: AbortSignal): AbortSignal {
  return signal ? AbortSignal.any([signal, AbortSignal.timeout(10_000)]) : AbortSignal.timeout(10_000);
}

/** Queues the agents' profiles and the owner's agent list where they differ; returns how many events were queued. */
export async function publishProfiles(options: {
  pool: Pick<WsRelayPool, 'fetch'>;
  storage: Pick<AgentStorage, 'outbox'>;
  owner: Signer;
  agents: ProfileSubjects;
  /**
   * Every agent pubkey of the owner (the 14199 list), not only the ones being published now; called
   * once the agents' batches are done (the list is then not held meanwhile).
   */
  allAgentPubkeys: () => string[] | Promise<string[]>;
  relays: string[];
  now: number;
  signal?: AbortSignal;
  /** Agents per batch (one REQ for their current events, then their changed events queued) [200]. */
  batchSize?: number;
  /** Pause between batches (ms) [PROFILE_BATCH_INTERVAL_MS]; 0: none. */
  batchIntervalMs?: number;
  clock?: Clock;
  /** Called after each batch that queued events (wakes the outbox publisher). */
  onQueued?: (events: number) => void;
}): Promise<number> {
  const { storage, owner, relays, now } = options;
  const createdAt = Math.floor(now / 1000);
  let queued = 0;
  const size = Math.max(1, options.batchSize ?? BATCH);
  const interval = options.batchIntervalMs ?? PROFILE_BATCH_INTERVAL_MS;
  const subjects = options.agents;
  for (let i = 0; i < subjects.count; i += size) {
    if (i > 0 && interval > 0) await (options.clock ?? systemClock).sleep(interval, options.signal ? { signal: options.signal } : {});
    const batch: ProfileSubject[] = [];
    for (let j = i; j < Math.min(i + size, subjects.count); j++) batch.push(subjects.at(j));
    const before = queued;
    const authors = batch.map((a) => a.signer.getPublicKey());
    const existing = await options.pool.fetch([{ kinds: [Kind.Metadata, Kind.RelayList, Kind.DmRelayList], authors }], {
      relays,
      signal: fetchSignal(options.signal),
    });
    for (const agent of batch) {
      const pubkey = agent.signer.getPublicKey();
      const templates = agentProfileTemplates(
        { profile: { name: agent.name, about: agent.about }, ownerPubkey: owner.getPublicKey(), relays: { read: agent.relays, write: agent.relays, dm: agent.relays } },
        createdAt,
      );
      for (const t of templates) if (await enqueueIfChanged(storage, agent.signer, t, newest(existing, pubkey, t.kind), agent.relays, now)) queued++;
    }
    if (queued > before) options.onQueued?.(queued - before);
  }
  const list = ownerAgentListTemplate(await options.allAgentPubkeys(), createdAt);
  const current = await options.pool.fetch([{ kinds: [Kind.AgentList], authors: [owner.getPublicKey()] }], { relays, signal: fetchSignal(options.signal) });
  if (await enqueueIfChanged(storage, owner, list, newest(current, owner.getPublicKey(), Kind.AgentList), relays, now)) {
    queued++;
    options.onQueued?.(1);
  }
  return queued;
}
