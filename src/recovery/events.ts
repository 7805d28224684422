/**
 * Snapshot events on the wire: building the chunk events and the manifest of one snapshot (only
 * the chunks whose plaintext changed since the last one are signed again), and opening events read
 * back from relays (signature, author, kind and `d`, version, NIP-44 to the author's own key), each
 * failure a SnapshotError naming the agent and the part.
 */
import { verifyEvent } from '../protocol/crypto.js';
import { tagValue, type NostrEvent } from '../protocol/event.js';
import type { Signer } from '../signer/types.js';
import { sha256Hex, splitUtf8 } from './chunks.js';
import { SnapshotError } from './errors.js';
import { chunkD, DEFAULT_CHUNK_BYTES, MANIFEST_D, PART_NAMES, SNAPSHOT_KIND, SNAPSHOT_VERSION, type AgentSnapshot, type Manifest } from './format.js';

/** What one snapshot of an agent is, before signing. */
export interface SnapshotInput {
  signer: Signer;
  snapshot: AgentSnapshot;
  generation: number;
  daemon: string;
  final: boolean;
  /** ms. */
  now: number;
  /** Unix seconds for every event of this snapshot (later than the previous snapshot's, so relays replace it). */
  createdAt: number;
  /** `d` → SHA-256 of the chunks published last time: those are not signed again. */
  previous?: Readonly<Record<string, string>>;
  chunkBytes?: number;
}

/** A built snapshot: the manifest, the events to publish (changed chunks, then the manifest), every chunk's hash. */
export interface BuiltSnapshot {
  manifest: Manifest;
  events: NostrEvent[];
  /** How many chunks changed (0: only the manifest is new). */
  changed: number;
  hashes: Record<string, string>;
}

const versionTag = ['version', String(SNAPSHOT_VERSION)];
/** The manifest is one event: NIP-44 pads 40,000 bytes to 40,960, a payload (~54.7 KB) that keeps it under 64 KiB. */
const MAX_MANIFEST_BYTES = 40_000;

/** Encrypts `plaintext` to the signer's own key and signs it as the addressable event `d`. */
export function selfEncrypted(signer: Signer, d: string, plaintext: string, createdAt: number): NostrEvent {
  const self = signer.getPublicKey();
  return signer.signEvent({ kind: SNAPSHOT_KIND, created_at: createdAt, tags: [['d', d], versionTag], content: signer.nip44.encrypt(self, plaintext) });
}

/** Serializes, chunks and signs one snapshot. */
export function buildSnapshot(input: SnapshotInput): BuiltSnapshot {
  const { signer, snapshot } = input;
  const chunkBytes = input.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const events: NostrEvent[] = [];
  const hashes: Record<string, string> = {};
  const parts: Manifest['parts'] = [];
  for (const name of PART_NAMES) {
    const chunks = splitUtf8(JSON.stringify(snapshot[name]), chunkBytes).map((text, i) => ({ text, d: chunkD(name, i), sha256: sha256Hex(text), bytes: Buffer.byteLength(text) }));
    for (const c of chunks) {
      hashes[c.d] = c.sha256;
      if (input.previous?.[c.d] !== c.sha256) events.push(selfEncrypted(signer, c.d, c.text, input.createdAt));
    }
    parts.push({ name, chunks: chunks.map(({ d, sha256, bytes }) => ({ d, sha256, bytes })) });
  }
  const trajectory = { seq: snapshot.state.trajectory.chain.lastSeq, id: snapshot.state.trajectory.chain.lastId };
  const manifest: Manifest = {
    version: SNAPSHOT_VERSION,
    generation: input.generation,
    daemon: input.daemon,
    final: input.final,
    createdAt: input.now,
    agent: { name: snapshot.agent.name, index: snapshot.agent.index, pubkey: signer.getPublicKey() },
    trajectory,
    parts,
  };
  const text = JSON.stringify(manifest);
  if (Buffer.byteLength(text) > MAX_MANIFEST_BYTES) {
    throw new SnapshotError('SNAPSHOT_INVALID', snapshot.agent.name, 'manifest', `${parts.reduce((n, p) => n + p.chunks.length, 0)} chunks are more than one manifest can list`);
  }
  const changed = events.length;
  events.push(selfEncrypted(signer, MANIFEST_D, text, input.createdAt));
  return { manifest, events, changed, hashes };
}

/** What an event read back must be: whose, which `d`, and the names for errors. */
export interface Expected {
  author: string;
  d: string;
  /** For errors: the agent's name (or `registry`). */
  agent: string;
  /** For errors: `manifest`, `facts/0`, `registry`. */
  part: string;
}

/**
 * Checks one event read from a relay and decrypts it with `signer` (the author's own key). Throws a
 * SnapshotError: BAD_SIGNATURE, WRONG_AUTHOR, INVALID (kind or `d`), VERSION_UNKNOWN or TAMPERED.
 */
export function openEvent(event: NostrEvent, expected: Expected, signer: Signer): string {
  const fail = (code: ConstructorParameters<typeof SnapshotError>[0], detail: string, cause?: unknown): SnapshotError =>
    new SnapshotError(code, expected.agent, expected.part, detail, cause === undefined ? {} : { cause });
  // The author first: an event that claims another key is that, whether or not its signature holds.
  if (event.pubkey !== expected.author) throw fail('SNAPSHOT_WRONG_AUTHOR', `event ${event.id.slice(0, 16)} is by ${event.pubkey.slice(0, 16)}…, not by ${expected.author.slice(0, 16)}…`);
  if (!verifyEvent(event)) throw fail('SNAPSHOT_BAD_SIGNATURE', `event ${event.id.slice(0, 16)} has a bad id or signature`);
  if (event.kind !== SNAPSHOT_KIND || tagValue(event, 'd') !== expected.d) throw fail('SNAPSHOT_INVALID', `event ${event.id.slice(0, 16)} is not kind ${SNAPSHOT_KIND} with d "${expected.d}"`);
  const version = tagValue(event, 'version');
  if (version !== String(SNAPSHOT_VERSION)) throw fail('SNAPSHOT_VERSION_UNKNOWN', `format version ${JSON.stringify(version ?? null)} (this runtime reads version ${SNAPSHOT_VERSION})`);
  try {
    return signer.nip44.decrypt(expected.author, event.content);
  } catch (error) {
    throw fail('SNAPSHOT_TAMPERED', `event ${event.id.slice(0, 16)} does not decrypt (${(error as Error).message})`, error);
  }
}

/**
 * Of several candidates for one `d` (relays may hold different versions), the newest that opens and
 * passes `accept`. When none does, the error of the newest candidate is thrown (the most recent write
 * is the one the owner expects); undefined when there is no candidate at all.
 */
export function openNewest<T>(candidates: readonly NostrEvent[], expected: Expected, signer: Signer, accept: (plaintext: string, event: NostrEvent) => T): T | undefined {
  const sorted = [...candidates].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1));
  let first: unknown;
  for (const event of sorted) {
    try {
      return accept(openEvent(event, expected, signer), event);
    } catch (error) {
      first ??= error;
    }
  }
  if (first !== undefined) throw first;
  return undefined;
}
