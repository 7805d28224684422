/**
 * A SnapshotReader over a relay pool: what the relays answer, plus the events the pool dropped on
 * the way (a bad signature, or another author than asked for: collected through the pool's
 * onDroppedEvent hook), so that a forged or foreign snapshot event is reported as such rather than
 * as missing. Use a pool of its own: every dropped event it sees is a candidate.
 */
import type { NostrEvent } from '../protocol/event.js';
import { matchFilters, type Filter } from '../protocol/filter.js';
import type { WsRelayPool } from '../relay/relay-pool.js';
import type { SnapshotReader } from './read.js';

/** Collects dropped events for `poolReader`; pass `sink.onDroppedEvent` to the WsRelayPool's options. */
export function droppedEventSink(): { onDroppedEvent: (event: NostrEvent) => void; events: NostrEvent[] } {
  const events: NostrEvent[] = [];
  return { events, onDroppedEvent: (event) => void events.push(event) };
}

/** Reads from `relays` of `pool` (each fetch bounded by `timeoutMs`). */
export function poolReader(pool: Pick<WsRelayPool, 'fetch'>, options: { relays?: string[]; dropped?: { events: NostrEvent[] }; timeoutMs?: number }): SnapshotReader {
  return {
    async fetch(filters: Filter[], fetchOptions: { signal?: AbortSignal; signatureNeeded?: (event: NostrEvent) => boolean } = {}) {
      const timeout = AbortSignal.timeout(options.timeoutMs ?? 15_000);
      const signal = fetchOptions.signal ? AbortSignal.any([fetchOptions.signal, timeout]) : timeout;
      const events = await pool.fetch(filters, { ...(options.relays ? { relays: options.relays } : {}), ...(fetchOptions.signatureNeeded ? { signatureNeeded: fetchOptions.signatureNeeded } : {}), signal });
      const key = (e: NostrEvent): string => `${e.id}:${e.pubkey}:${e.sig}:${e.content.length}`;
      const seen = new Set(events.map(key));
      // What the relay sent for these filters, whoever it claims wrote it.
      const anyAuthor = filters.map(({ authors: _authors, ...rest }) => rest);
      for (const dropped of options.dropped?.events ?? []) {
        if (seen.has(key(dropped)) || !matchFilters(anyAuthor, dropped)) continue;
        seen.add(key(dropped));
        events.push(dropped);
      }
      return events;
    },
  };
}
