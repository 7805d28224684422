/** NIP-65 relay list metadata (kind 10002): where a pubkey reads (is addressed) and writes. */
import type { EventTemplate, NostrEvent } from './event.js';
import { Kind } from './kinds.js';
import { normalizeRelayUrl } from './relay-url.js';

/** Read and write relays; a relay without a marker is in both. */
export interface RelayListMetadata {
  read: string[];
  write: string[];
}

/** Reads a kind 10002 (invalid URLs skipped, normalized, deduplicated). */
export function parseRelayList(event: Pick<NostrEvent, 'kind' | 'tags'>): RelayListMetadata {
  if (event.kind !== Kind.RelayList) throw new Error(`kind ${event.kind} is not a relay list`);
  const read = new Set<string>();
  const write = new Set<string>();
  for (const tag of event.tags) {
    if (tag[0] !== 'r' || !tag[1]) continue;
    const url = normalizeRelayUrl(tag[1]);
    if (!url) continue;
    const marker = tag[2];
    if (marker !== 'write') read.add(url);
    if (marker !== 'read') write.add(url);
  }
  return { read: [...read], write: [...write] };
}

/** The kind 10002 template; a relay in both lists gets no marker. */
export function createRelayList(list: RelayListMetadata, createdAt: number): EventTemplate {
  const tags: string[][] = [];
  const all = [...new Set([...list.read, ...list.write])];
  for (const url of all) {
    const r = list.read.includes(url);
    const w = list.write.includes(url);
    tags.push(r && w ? ['r', url] : ['r', url, r ? 'read' : 'write']);
  }
  return { kind: Kind.RelayList, created_at: createdAt, tags, content: '' };
}
