/**
 * What this home remembers about snapshots: its daemon id (which machine wrote a snapshot), and per
 * agent the generation and writer of the newest snapshot it knows, the hash of every chunk it last
 * published (only changed chunks are published again) and the trajectory head the owner accepted
 * with `agent takeover`. A small JSON file in the home (mode 600), replaced atomically: it belongs
 * to the machine, like the control token, not to the agents' database.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { PIECE_BYTES, readTextFile, writeTextFileAtomic } from '../util/chunked-file.js';
import { IndexMap } from '../util/index-map.js';
import { StatePacker } from './state-pack.js';

const AgentStateSchema = z.object({
  /** The newest generation this home knows of (its own last write, or the one it restored or took over). */
  generation: z.number().int().nonnegative(),
  /** The daemon that wrote that generation. */
  daemon: z.string(),
  /** `d` → SHA-256 of the chunks this home published last. */
  hashes: z.record(z.string(), z.string()).default({}),
  /** created_at (unix s) of the last snapshot events this home signed. */
  createdAt: z.number().int().nonnegative().default(0),
  /** Whether this home's last write was a final snapshot (written at a graceful stop). */
  final: z.boolean().default(false),
  /** A trajectory seq from another machine the owner accepted with `agent takeover`. */
  acceptedSeq: z.number().int().nonnegative().optional(),
  /** The id of the manifest event this home last wrote: found newest on the relays, it needs no decrypting. */
  manifestId: z.string().optional(),
  /**
   * The manifest this home wrote before that one. A stop queues each agent's final snapshot, and the
   * outbox may not have sent them all before the daemon exits: at the next start the relays then
   * still hold the start claim, this home's own too, which needs no decrypting or signature check.
   */
  previousManifestId: z.string().optional(),
});
export type AgentSnapshotState = z.infer<typeof AgentStateSchema>;

const FileSchema = z.object({
  daemon: z.string().min(8),
  agents: z.record(z.string(), AgentStateSchema).default({}),
  /** The registry this home last wrote: the list's hash and (version 2) each chunk's, so unchanged chunks are not sent again. */
  registry: z.object({ hash: z.string(), createdAt: z.number().int().nonnegative(), chunks: z.array(z.string()).optional() }).optional(),
});
type StateFile = z.infer<typeof FileSchema>;

const ENTRY_KEYS = new Set(['generation', 'daemon', 'hashes', 'createdAt', 'final', 'acceptedSeq', 'manifestId', 'previousManifestId']);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An entry exactly as this code writes it (every field present that has a default), checked by hand. */
function isWrittenEntry(v: unknown): v is AgentSnapshotState {
  if (!isRecord(v) || !isCount(v.generation) || typeof v.daemon !== 'string' || !isCount(v.createdAt) || typeof v.final !== 'boolean') return false;
  if (!isRecord(v.hashes) || !Object.values(v.hashes).every((h) => typeof h === 'string')) return false;
  if (v.acceptedSeq !== undefined && !isCount(v.acceptedSeq)) return false;
  if ((v.manifestId !== undefined && typeof v.manifestId !== 'string') || (v.previousManifestId !== undefined && typeof v.previousManifestId !== 'string')) return false;
  return Object.keys(v).every((k) => ENTRY_KEYS.has(k));
}

/**
 * The file as this code writes it, checked without zod: with 10,000 agents, zod's parse of every
 * entry took ~150 ms of each daemon start. Anything else (an older or hand-edited file) returns
 * undefined and goes through FileSchema, which fills in defaults and names what is wrong.
 */
function asWrittenFile(data: unknown): StateFile | undefined {
  if (!isRecord(data) || typeof data.daemon !== 'string' || data.daemon.length < 8 || !isRecord(data.agents)) return undefined;
  if (Object.keys(data).some((k) => k !== 'daemon' && k !== 'agents' && k !== 'registry')) return undefined;
  if (data.registry !== undefined && !FileSchema.shape.registry.safeParse(data.registry).success) return undefined;
  return Object.values(data.agents).every(isWrittenEntry) ? (data as StateFile) : undefined;
}

/** Options of the state file. */
export interface SnapshotStateFileOptions {
  /**
   * Write changes at most this often (ms), plus at `flush()`; unset: every change is written at once.
   * The daemon sets it: the file holds every agent's chunk hashes (hundreds of KiB with a thousand
   * agents), and rewriting it after each agent's snapshot made that O(agents) per answered message.
   * A crash loses at most this window, which costs no more than a crash between a snapshot's outbox
   * rows and its bookkeeping already does: the next snapshot publishes a few unchanged chunks again.
   */
  coalesceMs?: number;
}

/** The home's snapshot bookkeeping. */
export class SnapshotStateFile {
  readonly #file: string;
  readonly #coalesceMs: number | undefined;
  readonly #daemon: string;
  /** Index → entry, packed (state-pack.ts); a slot per agent index, not a Map entry. */
  readonly #agents = new IndexMap<string | AgentSnapshotState>();
  readonly #packer = new StatePacker();
  #registry: StateFile['registry'];
  #timer: NodeJS.Timeout | undefined;
  /** No file was there: the daemon id is new and not written yet (`save()` writes it). */
  readonly isNew: boolean;

  constructor(file: string, options: SnapshotStateFileOptions = {}) {
    this.#file = file;
    this.#coalesceMs = options.coalesceMs;
    const data = SnapshotStateFile.#load(file);
    this.isNew = data.isNew === true;
    this.#daemon = data.daemon;
    this.#registry = data.registry;
    for (const [key, state] of Object.entries(data.agents)) {
      const index = Number(key);
      // Keys are agent indexes (this code writes nothing else); any other key could never be looked up.
      if (Number.isInteger(index) && index >= 0) this.#agents.set(index, this.#packer.pack(state));
    }
  }

  static #load(file: string): StateFile & { isNew?: true } {
    if (existsSync(file)) {
      try {
        const data: unknown = JSON.parse(readTextFile(file));
        return asWrittenFile(data) ?? FileSchema.parse(data);
      } catch (error) {
        throw new Error(`${file} is damaged (${(error as Error).message.split('\n')[0]}); remove it to start snapshot bookkeeping afresh`, { cause: error });
      }
    }
    return { daemon: randomBytes(8).toString('hex'), agents: {}, isNew: true };
  }

  /** This home's daemon id (random, created once). */
  get daemonId(): string {
    return this.#daemon;
  }

  /** Agent `index`'s entry (a fresh copy: changes go through setAgent). */
  agent(index: number): AgentSnapshotState | undefined {
    const entry = this.#agents.get(index);
    return entry === undefined ? undefined : this.#packer.unpack(entry);
  }

  /** Whether this home knows a snapshot of agent `index` (its own, or one it restored or took over). */
  has(index: number): boolean {
    return this.#agents.has(index);
  }

  setAgent(index: number, state: AgentSnapshotState): void {
    this.#agents.set(index, this.#packer.pack(state));
    this.#changed();
  }

  registry(): StateFile['registry'] {
    return this.#registry;
  }

  setRegistry(registry: NonNullable<StateFile['registry']>): void {
    this.#registry = registry;
    this.#changed();
  }

  /** Writes the file now (and creates it with the daemon id on first use). */
  save(): void {
    this.#save();
  }

  /** Writes changes not written yet (with `coalesceMs`; a no-op otherwise). */
  flush(): void {
    if (this.#timer) this.#save();
  }

  #changed(): void {
    if (this.#coalesceMs === undefined) return this.#save();
    if (this.#timer) return;
    this.#timer = setTimeout(() => this.#save(), this.#coalesceMs);
    this.#timer.unref();
  }

  #save(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    writeTextFileAtomic(this.#file, this.#pieces());
  }

  /**
   * The file's JSON (as `JSON.stringify` of the whole state would give it) in pieces of a few dozen
   * agents: with thousands of agents the file is megabytes, written without one string or buffer of
   * that size (see chunked-file.ts).
   */
  *#pieces(): Generator<string> {
    let piece = `{"daemon":${JSON.stringify(this.#daemon)},"agents":{`;
    let first = true;
    for (const [index, entry] of this.#agents) {
      piece += `${first ? '' : ','}${JSON.stringify(String(index))}:${JSON.stringify(this.#packer.unpack(entry))}`;
      first = false;
      // Characters, not bytes: a third of PIECE_BYTES stays under it for any UTF-8.
      if (piece.length >= PIECE_BYTES / 3) {
        yield piece;
        piece = '';
      }
    }
    yield `${piece}}${this.#registry ? `,"registry":${JSON.stringify(this.#registry)}` : ''}}\n`;
  }
}
