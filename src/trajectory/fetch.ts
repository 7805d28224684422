/**
 * Fetching an agent's trajectory for verify: its tick and session events, and any tick event that
 * points at its sessions (a forgery signed by another key must be seen to be named). Works over a
 * small query seam so it runs against relays (a RelayPool) or the local store alike.
 */
import type { NostrEvent } from '../protocol/event.js';
import { matchFilters, type Filter } from '../protocol/filter.js';
import { Kind } from '../protocol/kinds.js';
import { sessionAddress } from './session.js';

/** Stored events matching filters, all at once (one relay, a pool, or the local store). */
export interface EventQuery {
  query(filters: Filter[], options?: { signal?: AbortSignal }): Promise<NostrEvent[]>;
}

/** The part of the RelayPool seam this needs (src/relay/types.ts `RelayPool` satisfies it). */
export interface EventStream {
  req(
    filters: Filter[],
    options?: { closeOnEose?: boolean; signal?: AbortSignal },
  ): AsyncIterable<{ type: 'event'; event: NostrEvent } | { type: 'eose' }>;
}

/** An EventQuery over a RelayPool-like stream: collects events until EOSE from every relay. */
export function queryFromStream(stream: EventStream): EventQuery {
  return {
    async query(filters, options) {
      const out: NostrEvent[] = [];
      for await (const item of stream.req(filters, { closeOnEose: true, signal: options?.signal })) {
        if (item.type === 'eose') break;
        out.push(item.event);
      }
      return out;
    },
  };
}

/** An EventQuery over events held in memory (the local store's rows, a test's fixture). */
export function queryFromEvents(events: readonly NostrEvent[]): EventQuery {
  return {
    query: async (filters) => {
      const limit = Math.max(...filters.map((f) => f.limit ?? Infinity));
      return events
        .filter((e) => matchFilters(filters, e))
        .sort((a, b) => b.created_at - a.created_at)
        .slice(0, limit);
    },
  };
}

/** What to fetch. */
export interface FetchOptions {
  agentPubkey: string;
  /** Unix seconds bounds on created_at. */
  since?: number;
  until?: number;
  /** Events per request; relays cap this themselves, paging continues either way. Default 500. */
  pageSize?: number;
  signal?: AbortSignal;
}

/** Every tick and session event of the agent, plus ticks by anyone pointing at its sessions. */
export async function fetchTrajectory(source: EventQuery, options: FetchOptions): Promise<NostrEvent[]> {
  const base = { since: options.since, until: options.until };
  const own = await paginate(source, { ...base, kinds: [Kind.TrajectoryTick, Kind.TrajectorySession], authors: [options.agentPubkey] }, options);
  const days = new Set<string>();
  for (const event of own) {
    const d = event.kind === Kind.TrajectorySession ? event.tags.find((t) => t[0] === 'd')?.[1] : event.tags.find((t) => t[0] === 'a')?.[1]?.split(':')[2];
    if (d) days.add(d);
  }
  if (days.size === 0) return own;
  const addresses = [...days].map((d) => sessionAddress(options.agentPubkey, d));
  const pointing = await paginate(source, { ...base, kinds: [Kind.TrajectoryTick], '#a': addresses }, options);
  const seen = new Set(own.map((e) => e.id));
  return [...own, ...pointing.filter((e) => !seen.has(e.id))];
}

/**
 * Pages backwards with `until` (inclusive, so events sharing a second are not skipped) until a page
 * brings nothing new. Several copies of one id from different sources are all kept: verify picks.
 */
async function paginate(source: EventQuery, filter: Filter, options: FetchOptions): Promise<NostrEvent[]> {
  const pageSize = options.pageSize ?? 500;
  const out: NostrEvent[] = [];
  const seen = new Set<string>();
  let until = filter.until;
  for (;;) {
    options.signal?.throwIfAborted();
    const page = await source.query([stripUndefined({ ...filter, until, limit: pageSize })], { signal: options.signal });
    let fresh = 0;
    let oldest = Infinity;
    for (const event of page) {
      oldest = Math.min(oldest, event.created_at);
      const key = `${event.id}:${event.sig}:${event.content.length}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(event);
      fresh++;
    }
    if (fresh === 0 || oldest === Infinity) return out;
    until = oldest;
  }
}

function stripUndefined(filter: Filter): Filter {
  return Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)) as Filter;
}
