/**
 * One agent's snapshot bookkeeping as the daemon holds it between snapshots: one flat latin1 string
 * per agent. The file's JSON form (every chunk's `d` and SHA-256 as hex strings, one object per agent)
 * cost ~1.8 KiB of V8 heap per dormant agent; an object of the fields beside one string of the
 * hashes still cost ~0.46 KiB; this is the string alone, ~0.38 KiB with ten chunks: the `d` lists
 * and daemon ids are shared (by number, from tables of their own), the numbers are 7 bytes each and
 * the hashes and manifest ids 32 raw bytes each. Entries that do not fit (a hash that is not 64-hex,
 * none written by this code; more distinct `d` lists or daemons than the tables number) are kept as
 * they are.
 */
import type { AgentSnapshotState } from './state.js';

const HEX64 = /^[0-9a-f]{64}$/;

const FINAL = 1;
const HAS_MANIFEST = 2;
const HAS_PREVIOUS = 4;
const HAS_ACCEPTED = 8;
/** Bytes of a number: safe integers (< 2^53) fit in 7. */
const NUMBER_BYTES = 7;
/** flags (1), `d` list number (2), daemon number (2), generation and createdAt, then acceptedSeq when set. */
const HEADER = 1 + 2 + 2 + 2 * NUMBER_BYTES;
const MAX_TABLE = 0xffff;

function putNumber(out: number[], n: number): void {
  let rest = n;
  for (let i = 0; i < NUMBER_BYTES; i++) {
    out.push(rest % 256);
    rest = Math.floor(rest / 256);
  }
}

function getNumber(s: string, at: number): number {
  let n = 0;
  for (let i = NUMBER_BYTES - 1; i >= 0; i--) n = n * 256 + s.charCodeAt(at + i);
  return n;
}

const fits = (n: number | undefined): boolean => n === undefined || (Number.isSafeInteger(n) && n >= 0);

/** Packs and unpacks entries against its tables of `d` lists and daemon ids (one per state file). */
export class StatePacker {
  readonly #keyLists: Array<readonly string[]> = [];
  readonly #keyListIds = new Map<string, number>();
  readonly #daemons: string[] = [];
  readonly #daemonIds = new Map<string, number>();

  /** The packed string of `state`, or `state` itself when it does not fit (see the module comment). */
  pack(state: AgentSnapshotState): string | AgentSnapshotState {
    const keys = Object.keys(state.hashes);
    const values = keys.map((k) => state.hashes[k]!);
    if (state.manifestId !== undefined) values.push(state.manifestId);
    if (state.previousManifestId !== undefined) values.push(state.previousManifestId);
    if (!values.every((v) => HEX64.test(v)) || !fits(state.generation) || !fits(state.createdAt) || !fits(state.acceptedSeq)) return state;
    const keyList = this.#intern(keys.join('\n'), keys, this.#keyLists, this.#keyListIds);
    const daemon = this.#intern(state.daemon, state.daemon, this.#daemons, this.#daemonIds);
    if (keyList === undefined || daemon === undefined) return state;
    const flags = (state.final ? FINAL : 0) | (state.manifestId !== undefined ? HAS_MANIFEST : 0) | (state.previousManifestId !== undefined ? HAS_PREVIOUS : 0) | (state.acceptedSeq !== undefined ? HAS_ACCEPTED : 0);
    const head: number[] = [flags, keyList & 0xff, keyList >> 8, daemon & 0xff, daemon >> 8];
    putNumber(head, state.generation);
    putNumber(head, state.createdAt);
    if (state.acceptedSeq !== undefined) putNumber(head, state.acceptedSeq);
    // One flat one-byte string (Buffer's latin1 decoding), not a cons string.
    return Buffer.concat([Buffer.from(head), Buffer.from(values.join(''), 'hex')]).toString('latin1');
  }

  /** The entry as the file holds it: a fresh object each time (changes go through the state file's setAgent). */
  unpack(entry: string | AgentSnapshotState): AgentSnapshotState {
    if (typeof entry !== 'string') return { ...entry, hashes: { ...entry.hashes } };
    const flags = entry.charCodeAt(0);
    const keys = this.#keyLists[entry.charCodeAt(1) | (entry.charCodeAt(2) << 8)]!;
    const daemon = this.#daemons[entry.charCodeAt(3) | (entry.charCodeAt(4) << 8)]!;
    const hasAccepted = (flags & HAS_ACCEPTED) !== 0;
    const start = HEADER + (hasAccepted ? NUMBER_BYTES : 0);
    const hex = Buffer.from(entry.slice(start), 'latin1').toString('hex');
    const hashes: Record<string, string> = {};
    keys.forEach((k, i) => (hashes[k] = hex.slice(i * 64, i * 64 + 64)));
    let at = keys.length * 64;
    const next = (): string => hex.slice(at, (at += 64));
    return {
      generation: getNumber(entry, 5),
      daemon,
      hashes,
      createdAt: getNumber(entry, 5 + NUMBER_BYTES),
      final: (flags & FINAL) !== 0,
      ...(hasAccepted ? { acceptedSeq: getNumber(entry, HEADER) } : {}),
      ...((flags & HAS_MANIFEST) !== 0 ? { manifestId: next() } : {}),
      ...((flags & HAS_PREVIOUS) !== 0 ? { previousManifestId: next() } : {}),
    };
  }

  #intern<T>(key: string, value: T, table: T[], ids: Map<string, number>): number | undefined {
    let id = ids.get(key);
    if (id === undefined) {
      if (table.length > MAX_TABLE) return undefined;
      id = table.push(value) - 1;
      ids.set(key, id);
    }
    return id;
  }
}
