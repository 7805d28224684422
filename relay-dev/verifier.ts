/**
 * Signature checks off the event loop. A pool of worker threads runs nostr-wasm (libsecp256k1) on the
 * events' JSON, so ingest scales past one core while the main thread parses, stores and answers.
 * Small batches, and everything when no worker could start, are checked inline with src/protocol/crypto.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { NostrEvent } from '../src/protocol/event.js';
import { verifyEvent } from '../src/protocol/crypto.js';

// Plain JS run with `eval`, so it works the same from TypeScript sources (tests) and from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.wasmUrl).then(async ({ initNostrWasm }) => {
  const nw = await initNostrWasm();
  // Lowercase hex only, as src/protocol/crypto.verifyEvent requires (libsecp256k1 alone also takes uppercase).
  const HEX32 = /^[0-9a-f]{64}$/, HEX64 = /^[0-9a-f]{128}$/;
  parentPort.on('message', ({ id, raws }) => {
    const results = new Uint8Array(raws.length);
    for (let i = 0; i < raws.length; i++) {
      try {
        const e = JSON.parse(raws[i]);
        if (!HEX32.test(e.id) || !HEX32.test(e.pubkey) || !HEX64.test(e.sig)) throw new Error('not lowercase hex');
        nw.verifyEvent(e);
        results[i] = 1;
      } catch { results[i] = 0; }
    }
    parentPort.postMessage({ id, results }, [results.buffer]);
  });
  parentPort.postMessage({ ready: true });
}).catch((error) => parentPort.postMessage({ failed: String((error && error.message) || error) }));
`;

/** Batches smaller than this are verified inline: a thread hop costs more than it saves. */
export const INLINE_BELOW = 4;
/** Largest batch sent to one worker at a time. */
const MAX_BATCH = 256;

interface Job {
  event: NostrEvent;
  raw: string;
  resolve: (ok: boolean) => void;
}

interface PoolWorker {
  worker: Worker;
  ready: boolean;
  outstanding: Map<number, Job[]>;
}

/** The default thread count: one per core, at most 4. */
export function defaultVerifyThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Verifies event signatures, in worker threads when it pays. */
export class Verifier {
  private readonly workers: PoolWorker[] = [];
  private queue: Job[] = [];
  private scheduled = false;
  private nextId = 1;
  private closed = false;

  /** Starts `threads` workers in the background (0: always inline); until one is ready, checks run inline. */
  constructor(threads = defaultVerifyThreads(), private readonly onWarning: (msg: string) => void = () => {}) {
    if (threads <= 0) return;
    let wasmUrl: string;
    try {
      wasmUrl = pathToFileURL(createRequire(import.meta.url).resolve('nostr-wasm')).href;
    } catch (cause) {
      onWarning(`signature workers disabled: nostr-wasm not found (${String(cause)})`);
      return;
    }
    for (let i = 0; i < threads; i++) this.spawn(wasmUrl);
  }

  /** How many workers are ready (0 means every check runs inline). */
  get readyWorkers(): number {
    return this.workers.filter((w) => w.ready).length;
  }

  /** Resolves true when the id matches the content and the signature is valid. Never rejects. */
  verify(event: NostrEvent, raw: string): Promise<boolean> {
    return new Promise((resolve) => {
      this.queue.push({ event, raw, resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Checks one event on the calling thread, now (src/protocol/crypto's engine): for a batch too small for a thread hop. */
  verifyNow(event: NostrEvent): boolean {
    return verifyEvent(event);
  }

  /** Stops the workers; checks still pending are finished inline. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const workers = this.workers.splice(0);
    for (const w of workers) this.failOver(w);
    await Promise.all(workers.map((w) => w.worker.terminate()));
    this.flush();
  }

  private spawn(wasmUrl: string): void {
    const entry: PoolWorker = {
      worker: new Worker(WORKER_SOURCE, { eval: true, workerData: { wasmUrl } }),
      ready: false,
      outstanding: new Map(),
    };
    entry.worker.unref();
    entry.worker.on('message', (msg: { ready?: boolean; failed?: string; id?: number; results?: Uint8Array }) => {
      if (msg.ready) entry.ready = true;
      else if (msg.failed !== undefined) this.drop(entry, `signature worker could not load nostr-wasm: ${msg.failed}`);
      else if (msg.id !== undefined && msg.results) {
        const jobs = entry.outstanding.get(msg.id) ?? [];
        entry.outstanding.delete(msg.id);
        jobs.forEach((job, i) => job.resolve(msg.results?.[i] === 1));
      }
    });
    entry.worker.on('error', (error) => this.drop(entry, `signature worker failed: ${error.message}`));
    entry.worker.on('exit', () => this.drop(entry, ''));
    this.workers.push(entry);
  }

  private drop(entry: PoolWorker, warning: string): void {
    const index = this.workers.indexOf(entry);
    if (index >= 0) this.workers.splice(index, 1);
    if (warning && !this.closed) this.onWarning(warning);
    this.failOver(entry);
    void entry.worker.terminate();
  }

  /** Finishes a worker's outstanding jobs inline. */
  private failOver(entry: PoolWorker): void {
    for (const jobs of entry.outstanding.values()) for (const job of jobs) job.resolve(verifyEvent(job.event));
    entry.outstanding.clear();
  }

  private flush(): void {
    this.scheduled = false;
    const jobs = this.queue;
    this.queue = [];
    const ready = this.workers.filter((w) => w.ready);
    if (jobs.length < INLINE_BELOW || ready.length === 0) {
      for (const job of jobs) job.resolve(verifyEvent(job.event));
      return;
    }
    // Even slices, each to the least busy worker.
    const slices = Math.min(ready.length * 4, Math.ceil(jobs.length / INLINE_BELOW));
    const size = Math.min(MAX_BATCH, Math.ceil(jobs.length / slices));
    for (let start = 0; start < jobs.length; start += size) {
      const slice = jobs.slice(start, start + size);
      const target = ready.reduce((a, b) => (load(b) < load(a) ? b : a));
      const id = this.nextId++;
      target.outstanding.set(id, slice);
      target.worker.postMessage({ id, raws: slice.map((j) => j.raw) });
    }
  }
}

function load(w: PoolWorker): number {
  let n = 0;
  for (const jobs of w.outstanding.values()) n += jobs.length;
  return n;
}
