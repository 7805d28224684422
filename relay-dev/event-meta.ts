/** What storage and policies derive from an event: its replaceable address, NIP-40 expiration, indexed tags. */
import type { NostrEvent } from '../src/protocol/event.js';
import { isAddressableKind, isReplaceableKind } from '../src/protocol/kinds.js';

/** Tag values longer than this are stored but not indexed (a `#x` filter will not find them). */
export const MAX_INDEXED_TAG_VALUE = 1024;

/** Kinds whose content is ciphertext: kept out of the full-text index. */
const CIPHERTEXT_KINDS = new Set([4, 13, 1059, 1060]);

/** The `d` part of the replaceable address: '' for replaceable kinds, the d tag for addressable ones, else null. */
export function addressKey(event: Pick<NostrEvent, 'kind' | 'tags'>): string | null {
  if (isReplaceableKind(event.kind)) return '';
  if (!isAddressableKind(event.kind)) return null;
  for (const tag of event.tags) if (tag[0] === 'd') return tag[1] ?? '';
  return '';
}

/** The NIP-40 expiration (unix seconds); undefined when absent, NaN when the tag is not a timestamp. */
export function expirationOf(event: Pick<NostrEvent, 'tags'>): number | undefined {
  for (const tag of event.tags) {
    if (tag[0] !== 'expiration') continue;
    const value = tag[1] ?? '';
    return /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  }
  return undefined;
}

/** True when the event carries an expiration at or before `now` (unix seconds). */
export function isExpired(event: Pick<NostrEvent, 'tags'>, now: number): boolean {
  const expiration = expirationOf(event);
  return expiration !== undefined && !Number.isNaN(expiration) && expiration <= now;
}

/** Distinct single-letter tags with a value short enough to index, as [name, value] pairs. */
export function indexedTags(event: Pick<NostrEvent, 'tags'>): Array<[string, string]> {
  const seen = new Set<string>();
  const out: Array<[string, string]> = [];
  for (const tag of event.tags) {
    const [name, value] = tag;
    if (name === undefined || value === undefined || name.length !== 1 || value.length > MAX_INDEXED_TAG_VALUE) continue;
    if (!/^[a-zA-Z]$/.test(name)) continue;
    const key = `${name}\u0000${value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push([name, value]);
  }
  return out;
}

/** True when the event's content belongs in the full-text index. */
export function isSearchable(event: Pick<NostrEvent, 'kind' | 'content'>): boolean {
  return event.content !== '' && !CIPHERTEXT_KINDS.has(event.kind);
}

/** The JSON stored and sent for an event: exactly the seven NIP-01 fields, nothing a client added. */
export function serializeForStorage(event: NostrEvent): string {
  return JSON.stringify({
    id: event.id,
    pubkey: event.pubkey,
    created_at: event.created_at,
    kind: event.kind,
    tags: event.tags,
    content: event.content,
    sig: event.sig,
  });
}

/** The id of an event stored by `serializeForStorage`, read without parsing: its JSON starts `{"id":"<64 hex>"`. */
export function rawEventId(raw: string): string {
  return raw.slice(7, 71);
}
