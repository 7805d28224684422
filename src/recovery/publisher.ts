/**
 * Keeps each hosted agent's snapshot on its relays: a state change is in a queued snapshot at most
 * `intervalMs` after it happened (every change in that time folds into the same one), one at start
 * (the daemon's claim: "this machine runs the agent now") and a final one at a graceful stop. Only
 * the chunks whose plaintext changed are signed again; the events go through the durable outbox like
 * any other. The owner's encrypted registry of agents is kept the same way.
 */
import type { NostrEvent } from '../protocol/event.js';
import type { Signer } from '../signer/types.js';
import type { Logger } from '../util/logger.js';
import { sha256Hex, splitUtf8 } from './chunks.js';
import { collectSnapshot, type CollectSource } from './collect.js';
import { buildSnapshot, selfEncrypted } from './events.js';
import { DEFAULT_CHUNK_BYTES, REGISTRY_D, REGISTRY_VERSION, registryChunkD, type Registry, type RegistryHead } from './format.js';
import type { SnapshotStateFile } from './state.js';

/** One event to queue: who signs it (the outbox row's agent) and the event. */
export interface QueuedEvent {
  agentPubkey: string;
  event: NostrEvent;
}

/** Options of the publisher. */
export interface SnapshotPublisherOptions {
  storage: CollectSource;
  signerFor: (index: number) => Signer;
  owner: Signer;
  state: SnapshotStateFile;
  /** Queues events in the outbox, all or none (to the author's own relays). */
  enqueue: (events: QueuedEvent[], now: number) => Promise<void>;
  /** Called after events were queued (wakes the outbox publisher). */
  onQueued?: () => void;
  /** At most one snapshot per agent per this many ms [10 000]. */
  intervalMs?: number;
  chunkBytes?: number;
  /** Secrets to redact wherever they appear (the daemon's API keys). */
  secrets?: readonly string[];
  now?: () => number;
  logger?: Logger;
}

/** The debounced snapshot writer of one daemon. */
export class SnapshotPublisher {
  readonly #o: SnapshotPublisherOptions;
  /** The agents with a change not in a snapshot yet: the write that will take it. */
  readonly #timers = new Map<number, NodeJS.Timeout>();
  /** One write at a time per agent, in order. */
  readonly #chains = new Map<number, Promise<void>>();
  #stopped = false;

  constructor(options: SnapshotPublisherOptions) {
    this.#o = options;
  }

  /** Agents with a change waiting for its snapshot (each holds a timer until it is written). */
  get pending(): number {
    return this.#timers.size;
  }

  #settled(index: number, tail: Promise<void>): void {
    if (this.#chains.get(index) === tail) this.#chains.delete(index);
  }

  #now(): number {
    return this.#o.now?.() ?? Date.now();
  }

  /**
   * The agent's state changed: a snapshot follows `intervalMs` after the first change not in one yet
   * (the trailing edge: a DM's wake, its tick and its reply's commit are one snapshot, not two), so
   * snapshots of an agent are at least an interval apart and no change waits longer than that. An
   * agent this home has no snapshot of (a new one) is written at once: until its first snapshot
   * reaches a relay, a restore that finds it in the registry has nothing to read.
   */
  changed(index: number): void {
    if (this.#stopped || this.#timers.has(index)) return;
    const wait = this.#o.state.has(index) ? (this.#o.intervalMs ?? 10_000) : 0;
    const timer = setTimeout(() => {
      this.#timers.delete(index);
      void this.write(index).catch((error: unknown) => this.#warn(index, error));
    }, wait);
    timer.unref();
    this.#timers.set(index, timer);
  }

  /**
   * Writes agent `index`'s snapshot now. Unless `force` or `final`, nothing is written when no chunk
   * changed since this home's last write. Resolves with the number of events queued.
   */
  write(index: number, options: { final?: boolean; force?: boolean } = {}): Promise<number> {
    const run = (this.#chains.get(index) ?? Promise.resolve()).then(() => this.#write(index, options));
    // The chain's entry goes once its last write settles: a dormant agent keeps no promise here.
    const tail: Promise<void> = run.then(
      () => this.#settled(index, tail),
      () => this.#settled(index, tail),
    );
    this.#chains.set(index, tail);
    return run;
  }

  async #write(index: number, options: { final?: boolean; force?: boolean }): Promise<number> {
    const now = this.#now();
    const snapshot = await collectSnapshot(this.#o.storage, index, { now, secrets: this.#o.secrets ?? [] });
    if (!snapshot) return 0;
    const { state } = this.#o;
    const known = state.agent(index);
    const signer = this.#o.signerFor(index);
    const createdAt = Math.max(Math.floor(now / 1000), (known?.createdAt ?? 0) + 1);
    const built = buildSnapshot({
      signer,
      snapshot,
      generation: (known?.generation ?? 0) + 1,
      daemon: state.daemonId,
      final: options.final ?? false,
      now,
      createdAt,
      // Chunks someone else wrote (a restored or taken-over agent) are compared too: same key, same plaintext.
      previous: known?.hashes ?? {},
      ...(this.#o.chunkBytes ? { chunkBytes: this.#o.chunkBytes } : {}),
    });
    const unchanged = built.changed === 0 && known?.daemon === state.daemonId && known.final === (options.final ?? false);
    if (unchanged && !options.force) return 0;
    await this.#o.enqueue(built.events.map((event) => ({ agentPubkey: signer.getPublicKey(), event })), now);
    const manifestId = built.events[built.events.length - 1]!.id;
    state.setAgent(index, { ...(known ?? {}), generation: built.manifest.generation, daemon: state.daemonId, hashes: built.hashes, createdAt, final: options.final ?? false, manifestId, ...(known?.manifestId ? { previousManifestId: known.manifestId } : {}) });
    this.#o.onQueued?.();
    this.#o.logger?.log({ level: 'debug', ns: 'snapshot', msg: 'snapshot queued', agent: snapshot.agent.name, generation: built.manifest.generation, chunks: built.changed, final: options.final ?? false });
    return built.events.length;
  }

  /**
   * Queues the owner's registry when it differs from the last one this home wrote: the list's JSON
   * in chunks (only those that changed since this home's last write), then the head naming them all.
   */
  async writeRegistry(agents: Registry['agents']): Promise<boolean> {
    const now = this.#now();
    const sorted = [...agents].sort((a, b) => a.index - b.index);
    const text = JSON.stringify(sorted);
    const hash = sha256Hex(text);
    const known = this.#o.state.registry();
    if (known?.hash === hash) return false;
    const createdAt = Math.max(Math.floor(now / 1000), (known?.createdAt ?? 0) + 1);
    const pieces = splitUtf8(text, this.#o.chunkBytes ?? DEFAULT_CHUNK_BYTES);
    const chunks = pieces.map((piece, i) => ({ d: registryChunkD(i), sha256: sha256Hex(piece), bytes: Buffer.byteLength(piece) }));
    const owner = this.#o.owner;
    const signed = chunks.flatMap((ref, i) => (known?.chunks?.[i] === ref.sha256 ? [] : [selfEncrypted(owner, ref.d, pieces[i]!, createdAt)]));
    const head: RegistryHead = { version: REGISTRY_VERSION, updatedAt: now, count: sorted.length, chunks };
    signed.push(selfEncrypted(owner, REGISTRY_D, JSON.stringify(head), createdAt));
    await this.#o.enqueue(signed.map((event) => ({ agentPubkey: owner.getPublicKey(), event })), now);
    this.#o.state.setRegistry({ hash, createdAt, chunks: chunks.map((c) => c.sha256) });
    this.#o.onQueued?.();
    return true;
  }

  /** Cancels pending debounced writes and writes a final snapshot of each of `indices` (graceful stop). */
  async stop(indices: number[]): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const index of indices) {
      try {
        await this.write(index, { final: true });
      } catch (error) {
        this.#warn(index, error);
      }
    }
  }

  #warn(index: number, error: unknown): void {
    this.#o.logger?.log({ level: 'warn', ns: 'snapshot', msg: 'snapshot failed', agentIndex: index, error: (error as Error).message });
  }
}
