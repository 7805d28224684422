/**
 * What this home remembers about snapshots: its daemon id (which machine wrote a snapshot), and per
 * agent the generation and writer of the newest snapshot it knows, the hash of every chunk it last
 * published (only changed chunks are published again) and the trajectory head the owner accepted
 * with `agent takeover`. A small JSON file in the home (mode 600), replaced atomically: it belongs
 * to the machine, like the control token, not to the agents' database.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

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
});
export type AgentSnapshotState = z.infer<typeof AgentStateSchema>;

const FileSchema = z.object({
  daemon: z.string().min(8),
  agents: z.record(z.string(), AgentStateSchema).default({}),
  registry: z.object({ hash: z.string(), createdAt: z.number().int().nonnegative() }).optional(),
});
type StateFile = z.infer<typeof FileSchema>;

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
  #data: StateFile;
  #timer: NodeJS.Timeout | undefined;

  constructor(file: string, options: SnapshotStateFileOptions = {}) {
    this.#file = file;
    this.#coalesceMs = options.coalesceMs;
    this.#data = SnapshotStateFile.#load(file);
  }

  static #load(file: string): StateFile {
    if (existsSync(file)) {
      try {
        return FileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
      } catch (error) {
        throw new Error(`${file} is damaged (${(error as Error).message.split('\n')[0]}); remove it to start snapshot bookkeeping afresh`, { cause: error });
      }
    }
    return { daemon: randomBytes(8).toString('hex'), agents: {} };
  }

  /** This home's daemon id (random, created once). */
  get daemonId(): string {
    return this.#data.daemon;
  }

  agent(index: number): AgentSnapshotState | undefined {
    return this.#data.agents[String(index)];
  }

  setAgent(index: number, state: AgentSnapshotState): void {
    this.#data.agents[String(index)] = state;
    this.#changed();
  }

  registry(): StateFile['registry'] {
    return this.#data.registry;
  }

  setRegistry(registry: NonNullable<StateFile['registry']>): void {
    this.#data.registry = registry;
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
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.#data)}\n`, { mode: 0o600 });
    renameSync(tmp, this.#file);
  }
}
