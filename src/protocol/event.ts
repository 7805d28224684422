/**
 * NIP-01 events: the wire shape, canonical serialization and id hashing.
 * Pure functions; signing and verification live in crypto.ts so this file stays dependency-light.
 */
import { createHash } from 'node:crypto';

/** A signed Nostr event as it travels on the wire. */
export interface NostrEvent {
  id: string;
  pubkey: string;
  created_at: number;
  kind: number;
  tags: string[][];
  content: string;
  sig: string;
}

/** What a caller fills in before signing: pubkey, id and sig are added by the signer. */
export interface EventTemplate {
  kind: number;
  created_at: number;
  tags: string[][];
  content: string;
}

/** An event with id and pubkey but no signature (NIP-59 rumors are exactly this). */
export type UnsignedEvent = Omit<NostrEvent, 'sig'>;

/** The NIP-01 canonical serialization `[0, pubkey, created_at, kind, tags, content]`. */
export function serializeEvent(event: Omit<UnsignedEvent, 'id'>): string {
  return JSON.stringify([0, event.pubkey, event.created_at, event.kind, event.tags, event.content]);
}

/**
 * The event id: lowercase hex sha256 of the canonical serialization (UTF-8). Node's native hash: 7–12×
 * the pure-JS one on 0.2–5 KB events, and every event read is hashed (a start with 10,000 agents reads
 * ~40,000 for the split-brain check). A lone surrogate becomes U+FFFD either way, as TextEncoder does.
 */
export function getEventHash(event: Omit<UnsignedEvent, 'id'>): string {
  return createHash('sha256').update(serializeEvent(event), 'utf8').digest('hex');
}

/** The event id as its 32 bytes (what a Schnorr signature signs). */
export function getEventHashBytes(event: Omit<UnsignedEvent, 'id'>): Buffer {
  return createHash('sha256').update(serializeEvent(event), 'utf8').digest();
}

const HEX64 = '0'.repeat(64);

/**
 * The exact size in bytes of the JSON of `template` once signed (id, pubkey and sig have fixed
 * lengths, so no key is needed). Relays bound this (strfry's maxEventSize, 64 KiB by default).
 */
export function signedEventBytes(template: EventTemplate): number {
  return Buffer.byteLength(JSON.stringify({ ...template, pubkey: HEX64, id: HEX64, sig: HEX64 + HEX64 }), 'utf8');
}

/** Current unix time in seconds, from a clock function (injectable for tests). */
export function unixNow(now: () => number = Date.now): number {
  return Math.floor(now() / 1000);
}

/** First value of the first tag named `name`, if any. */
export function tagValue(event: Pick<NostrEvent, 'tags'>, name: string): string | undefined {
  for (const tag of event.tags) if (tag[0] === name) return tag[1];
  return undefined;
}

/** Every value of tags named `name` (the second element of each). */
export function tagValues(event: Pick<NostrEvent, 'tags'>, name: string): string[] {
  const out: string[] = [];
  for (const tag of event.tags) if (tag[0] === name && tag[1] !== undefined) out.push(tag[1]);
  return out;
}

/** Newest first, ties broken by lowest id (NIP-01 ordering for `limit`). */
export function compareEventsNewestFirst(a: NostrEvent, b: NostrEvent): number {
  if (a.created_at !== b.created_at) return b.created_at - a.created_at;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
