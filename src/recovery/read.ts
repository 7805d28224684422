/**
 * Reading snapshots back from relays: the owner's registry, an agent's manifest and every chunk it
 * lists, each verified, decrypted and validated, and reassembled into an AgentSnapshot. Nothing is
 * written here; any failure is a SnapshotError naming the agent and the part, so a restore can stop
 * before it imports anything.
 */
import { z } from 'zod';
import type { NostrEvent } from '../protocol/event.js';
import { tagValue } from '../protocol/event.js';
import type { Filter } from '../protocol/filter.js';
import { Kind } from '../protocol/kinds.js';
import type { Signer } from '../signer/types.js';
import { sha256Hex } from './chunks.js';
import { SnapshotError } from './errors.js';
import { openNewest } from './events.js';
import {
  MANIFEST_D, ManifestSchema, PART_NAMES, PART_SCHEMAS, REGISTRY_D, REGISTRY_VERSION, RegistryAgentsSchema, RegistryHeadSchema, RegistryV1Schema,
  SNAPSHOT_KIND, SNAPSHOT_VERSION, type AgentSnapshot, type Manifest, type PartName, type Registry, type RegistryHead,
} from './format.js';

/**
 * Where snapshot events come from: every event the relays answer `filters` with, including those
 * whose signature does not verify (so that a forged event is reported as such, not as missing).
 */
export interface SnapshotReader {
  /** `signatureNeeded` (see ReqOptions): false lets a reader skip that event's Schnorr check; a reader may check it anyway. */
  fetch(filters: Filter[], options?: { signal?: AbortSignal; signatureNeeded?: (event: NostrEvent) => boolean }): Promise<NostrEvent[]>;
}

/** A snapshot as read: the manifest, its event, and the parts. */
export interface ReadSnapshot {
  manifest: Manifest;
  event: NostrEvent;
  snapshot: AgentSnapshot;
}

/** JSON text → a schema's value, or a SnapshotError: VERSION_UNKNOWN for another `version`, INVALID otherwise. */
function parseJson<S extends z.ZodType>(schema: S, text: string, agent: string, part: string): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new SnapshotError('SNAPSHOT_INVALID', agent, part, 'is not JSON', { cause });
  }
  const version = (value as { version?: unknown } | null)?.version;
  if (part === 'registry') {
    if (version !== 1 && version !== REGISTRY_VERSION) throw new SnapshotError('SNAPSHOT_VERSION_UNKNOWN', agent, part, `registry format version ${JSON.stringify(version ?? null)} (this runtime reads versions 1 and ${REGISTRY_VERSION})`);
  } else if (part === 'manifest') {
    if (version !== SNAPSHOT_VERSION) throw new SnapshotError('SNAPSHOT_VERSION_UNKNOWN', agent, part, `format version ${JSON.stringify(version ?? null)} (this runtime reads version ${SNAPSHOT_VERSION})`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new SnapshotError('SNAPSHOT_INVALID', agent, part, z.prettifyError(parsed.error).replace(/\n/g, '; '), { cause: parsed.error });
  return parsed.data;
}

const withD = (events: readonly NostrEvent[], d: string): NostrEvent[] => events.filter((e) => tagValue(e, 'd') === d);

/**
 * The owner's registry of agents, or undefined when no relay has one. Version 1 is the list itself;
 * version 2 a head whose chunks are fetched, checked against its hashes and joined.
 */
export async function readRegistry(reader: SnapshotReader, owner: Signer, options: { signal?: AbortSignal } = {}): Promise<Registry | undefined> {
  const author = owner.getPublicKey();
  const events = await reader.fetch([{ kinds: [SNAPSHOT_KIND], authors: [author], '#d': [REGISTRY_D] }], options);
  const head = openNewest(withD(events, REGISTRY_D), { author, d: REGISTRY_D, agent: 'registry', part: 'registry' }, owner, (text) =>
    parseJson(RegistryHeadSchema.or(RegistryV1Schema), text, 'registry', 'registry'),
  );
  if (!head || head.version === 1) return head;
  const agents = parseJson(RegistryAgentsSchema, await readChunks(reader, owner, 'registry', head.chunks, options), 'registry', 'registry/agents');
  if (agents.length !== head.count) throw new SnapshotError('SNAPSHOT_INVALID', 'registry', 'registry', `lists ${agents.length} agents, its head says ${head.count}`);
  return { version: head.version, updatedAt: head.updatedAt, agents };
}

/** The chunks `refs` by `signer`, each the newest of its `d`, checked against its hash, joined in order. */
async function readChunks(reader: SnapshotReader, signer: Signer, who: string, refs: RegistryHead['chunks'], options: { signal?: AbortSignal }): Promise<string> {
  const events = await fetchChunks(reader, signer.getPublicKey(), refs.map((c) => c.d), options);
  return joinChunks(events, refs, signer, who, (i) => `registry/${i}`, 'its head lists');
}

const D_PER_FILTER = 100;

/** Every event of `author` under the `d` tags `ds`, asked for in filters of at most 100 `d`s. */
function fetchChunks(reader: SnapshotReader, author: string, ds: readonly string[], options: { signal?: AbortSignal }): Promise<NostrEvent[]> {
  const filters: Filter[] = [];
  for (let i = 0; i < ds.length; i += D_PER_FILTER) filters.push({ kinds: [SNAPSHOT_KIND], authors: [author], '#d': ds.slice(i, i + D_PER_FILTER) });
  return reader.fetch(filters, options);
}

/**
 * Of fetched events, the chunks `refs`, each the newest valid one of its `d`, checked against the hash
 * `listedBy` (the registry head or the manifest) gives, joined in order: a missing or altered chunk
 * is an error naming it (`label(i)`), never a shorter text.
 */
function joinChunks(events: readonly NostrEvent[], refs: RegistryHead['chunks'], signer: Signer, who: string, label: (i: number) => string, listedBy: string): string {
  const author = signer.getPublicKey();
  let text = '';
  for (const [i, ref] of refs.entries()) {
    const part = label(i);
    const chunk = openNewest(withD(events, ref.d), { author, d: ref.d, agent: who, part }, signer, (plaintext) => {
      if (sha256Hex(plaintext) !== ref.sha256) throw new SnapshotError('SNAPSHOT_TAMPERED', who, part, `does not match the hash ${listedBy} (an older or altered chunk)`);
      return plaintext;
    });
    if (chunk === undefined) throw new SnapshotError('SNAPSHOT_CHUNK_MISSING', who, part, `chunk ${i + 1} of ${refs.length} ("${ref.d}") is on none of the relays`);
    text += chunk;
  }
  return text;
}

/**
 * Without a registry: the accounts (1, 2, …) whose kind 0 is a bot profile naming the owner, asked
 * 20 at a time, stopping after `gap` accounts in a row without one (BIP-44's gap limit).
 */
export async function scanAgentAccounts(
  reader: SnapshotReader,
  options: { ownerPubkey: string; pubkeyOf: (account: number) => string; gap?: number; maxAccounts?: number; from?: number; signal?: AbortSignal },
): Promise<Array<{ account: number; pubkey: string }>> {
  const gap = options.gap ?? 20;
  const max = options.maxAccounts ?? 10_000;
  const from = options.from ?? 1;
  const found: Array<{ account: number; pubkey: string }> = [];
  let lastFound = from - 1;
  // Asked `gap` accounts at a time; an account more than `gap` past the last find ends the scan.
  for (let start = from; start <= lastFound + gap && start <= max; start += gap) {
    const accounts = Array.from({ length: gap }, (_, i) => start + i);
    const pubkeys = accounts.map((a) => options.pubkeyOf(a));
    const events = await reader.fetch([{ kinds: [Kind.Metadata], authors: pubkeys }], options.signal ? { signal: options.signal } : {});
    for (const [i, account] of accounts.entries()) {
      if (account > lastFound + gap) break;
      const pubkey = pubkeys[i]!;
      if (events.some((e) => e.pubkey === pubkey && e.kind === Kind.Metadata && isBotOf(e, options.ownerPubkey))) {
        found.push({ account, pubkey });
        lastFound = account;
      }
    }
  }
  return found.sort((a, b) => a.account - b.account);
}

/** A kind 0 that says `"bot": true` (or has the `bot` tag) and names `owner` in a `p` tag (NIP-AE). */
function isBotOf(event: NostrEvent, owner: string): boolean {
  const names = event.tags.some((t) => t[0] === 'p' && t[1] === owner);
  if (!names) return false;
  if (event.tags.some((t) => t[0] === 'bot')) return true;
  try {
    return (JSON.parse(event.content) as { bot?: unknown }).bot === true;
  } catch {
    return false;
  }
}

/** The newest valid manifest of an agent, or undefined when no relay has one (errors when all are bad). */
export async function readManifest(reader: SnapshotReader, agent: Signer, name: string, options: { signal?: AbortSignal } = {}): Promise<{ manifest: Manifest; event: NostrEvent } | undefined> {
  const events = await reader.fetch([{ kinds: [SNAPSHOT_KIND], authors: [agent.getPublicKey()], '#d': [MANIFEST_D] }], options);
  return openManifest(events, agent, name);
}

/**
 * Of fetched events, the newest valid manifest by `agent` (undefined when there is none; errors when
 * all are bad). With `ownOnly`, events of other authors are not candidates (a fetch for many agents).
 */
export function openManifest(events: readonly NostrEvent[], agent: Signer, name: string, options: { ownOnly?: boolean } = {}): { manifest: Manifest; event: NostrEvent } | undefined {
  const author = agent.getPublicKey();
  const candidates = withD(events, MANIFEST_D).filter((e) => !options.ownOnly || e.pubkey === author);
  return openNewest(candidates, { author, d: MANIFEST_D, agent: name, part: 'manifest' }, agent, (text, event) => {
    const manifest = parseJson(ManifestSchema, text, name, 'manifest');
    if (manifest.agent.pubkey !== author) throw new SnapshotError('SNAPSHOT_INVALID', name, 'manifest', 'names another agent');
    return { manifest, event };
  });
}

/** Reads, verifies and reassembles a whole snapshot. `name` is how errors call the agent until the manifest says. */
export async function readSnapshot(reader: SnapshotReader, agent: Signer, name: string, options: { signal?: AbortSignal } = {}): Promise<ReadSnapshot> {
  const author = agent.getPublicKey();
  const head = await readManifest(reader, agent, name, options);
  if (!head) throw new SnapshotError('SNAPSHOT_NOT_FOUND', name, 'manifest', `no snapshot of ${author.slice(0, 16)}… on the relays`);
  const { manifest } = head;
  const who = manifest.agent.name;
  const events = await fetchChunks(reader, author, manifest.parts.flatMap((p) => p.chunks.map((c) => c.d)), options);
  const parts: Partial<Record<PartName, unknown>> = {};
  for (const part of manifest.parts) {
    const text = joinChunks(events, part.chunks, agent, who, (i) => `${part.name}/${i}`, 'in the manifest');
    parts[part.name] = parseJson(PART_SCHEMAS[part.name], text, who, part.name);
  }
  const snapshot = parts as AgentSnapshot;
  for (const p of PART_NAMES) if (parts[p] === undefined) throw new SnapshotError('SNAPSHOT_INVALID', who, p, 'is missing');
  if (snapshot.agent.pubkey !== author || snapshot.agent.index !== manifest.agent.index || snapshot.agent.name !== who) {
    throw new SnapshotError('SNAPSHOT_INVALID', who, 'agent', 'does not match the manifest (name, index or key)');
  }
  return { manifest, event: head.event, snapshot };
}
