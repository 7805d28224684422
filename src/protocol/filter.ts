/** NIP-01 filters and in-memory matching (used for live delivery and client-side checks). */
import type { NostrEvent } from './event.js';

/** A NIP-01 filter. Tag filters are `#x` keys with single-letter names. */
export interface Filter {
  ids?: string[];
  authors?: string[];
  kinds?: number[];
  since?: number;
  until?: number;
  limit?: number;
  search?: string;
  [tag: `#${string}`]: string[] | undefined;
}

/** The single-letter tag filters of a filter, as [letter, values] pairs. */
export function tagFilters(filter: Filter): Array<[string, string[]]> {
  const out: Array<[string, string[]]> = [];
  for (const key of Object.keys(filter)) {
    if (key.length === 2 && key[0] === '#') {
      const values = filter[key as `#${string}`];
      if (values) out.push([key.slice(1), values]);
    }
  }
  return out;
}

/** True when the event satisfies every condition of the filter (search is not evaluated here). */
export function matchFilter(filter: Filter, event: NostrEvent): boolean {
  if (filter.ids && !filter.ids.includes(event.id)) return false;
  if (filter.kinds && !filter.kinds.includes(event.kind)) return false;
  if (filter.authors && !filter.authors.includes(event.pubkey)) return false;
  if (filter.since !== undefined && event.created_at < filter.since) return false;
  if (filter.until !== undefined && event.created_at > filter.until) return false;
  for (const [letter, values] of tagFilters(filter)) {
    if (!event.tags.some((t) => t[0] === letter && t[1] !== undefined && values.includes(t[1]))) return false;
  }
  return true;
}

/** True when any filter matches (filters in one REQ are OR'd). */
export function matchFilters(filters: readonly Filter[], event: NostrEvent): boolean {
  return filters.some((f) => matchFilter(f, event));
}
