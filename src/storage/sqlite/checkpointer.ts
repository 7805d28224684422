/**
 * WAL checkpoints on a worker thread, for the one long-lived writer (the daemon).
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past 1,000 pages: that
 * commit copies the WAL's pages into the database file and fsyncs both files (synchronous=NORMAL
 * syncs at checkpoints only), on the thread that committed. In the daemon that is the event loop's
 * thread: at the dm-throughput goal size (~40 WAL pages per answered DM) one commit in seven paid
 * for a checkpoint, 5–20 ms each, ~0.35 ms of every DM's time on the daemon's thread spent waiting
 * on fsync. Here a second connection on a worker thread does the checkpoints (PASSIVE: it never
 * waits for the writer, the writer never waits for it) whenever another connection committed since
 * its last look; the writer's own automatic checkpoint stays as a fallback at FALLBACK_PAGES, for a
 * worker that fell behind or failed.
 *
 * What a crash can lose does not change: a commit is in the WAL when COMMIT returns either way, and
 * a checkpoint only copies committed pages into the database file (an interrupted one is redone from
 * the WAL at the next open).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Db } from './database.js';

/** The writer's own automatic checkpoint while a worker does them (pages; ~40 MiB of WAL at 4 KiB pages). */
export const FALLBACK_PAGES = 10_000;
/** SQLite's default automatic checkpoint (pages): what the writer goes back to if the worker fails. */
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;
/** How often the worker looks for new commits (ms). */
export const CHECKPOINT_INTERVAL_MS = 250;

/** One checkpoint as SQLite reports it: frames in the WAL, and how many of them are in the database file now. */
export interface CheckpointReport {
  /** True when the checkpoint could not run (another checkpoint held the lock). */
  busy: boolean;
  walFrames: number;
  checkpointedFrames: number;
}

/** Options of `WalCheckpointer`. */
export interface WalCheckpointerOptions {
  /** How often the worker looks for new commits (ms); default CHECKPOINT_INTERVAL_MS. */
  intervalMs?: number;
  /** Called after each checkpoint the worker ran. */
  onCheckpoint?: (report: CheckpointReport) => void;
  /** The worker could not open the file or failed: the writer checkpoints on its own again. */
  onError?: (message: string) => void;
}

// CommonJS, run with `eval: true`: the worker needs no file of its own in dist/ or under vitest.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
try {
  db = new Database(workerData.file, { fileMustExist: true });
} catch (error) {
  parentPort.postMessage({ failed: error.message });
  process.exit(0);
}
let version = -1;
const timer = setInterval(() => {
  try {
    const now = db.pragma('data_version', { simple: true });
    if (now === version) return;
    version = now;
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ busy: row.busy === 1, walFrames: row.log, checkpointedFrames: row.checkpointed });
  } catch (error) {
    clearInterval(timer);
    parentPort.postMessage({ failed: error.message });
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Checkpoints `file`'s WAL on a worker thread while `db` (the writer's connection to it) is open.
 * `stop` before closing `db`. Never throws after construction: a failed worker reports through
 * `onError` and the writer's automatic checkpoint is back at SQLite's default.
 */
export class WalCheckpointer {
  readonly #db: Db;
  readonly #worker: Worker;
  readonly #options: WalCheckpointerOptions;
  #stopped: Promise<void> | undefined;
  #failed = false;
  #exited = false;

  constructor(db: Db, file: string, options: WalCheckpointerOptions = {}) {
    this.#db = db;
    this.#options = options;
    db.pragma(`wal_autocheckpoint = ${FALLBACK_PAGES}`);
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file, intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS } });
    // The daemon's exit never waits for this thread.
    this.#worker.unref();
    this.#worker.on('message', (message: CheckpointReport | { failed: string }) => {
      if ('failed' in message) this.#fail(`WAL checkpoint worker failed: ${message.failed}`);
      else this.#options.onCheckpoint?.(message);
    });
    this.#worker.on('error', (error) => this.#fail(`WAL checkpoint worker failed: ${error.message}`));
    this.#worker.on('exit', () => {
      this.#exited = true;
      if (this.#stopped === undefined) this.#fail('WAL checkpoint worker exited');
    });
  }

  /** Stops the worker (its connection closed) and waits for it; idempotent. */
  stop(): Promise<void> {
    if (this.#stopped) return this.#stopped;
    this.#stopped = this.#exited
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          this.#worker.once('exit', () => resolve());
          // Referenced while it is waited for: an unreferenced worker's exit does not keep the process
          // alive, so a stop with nothing else pending ended with this promise unsettled (exit code 13).
          this.#worker.ref();
          this.#worker.postMessage('stop');
        });
    return this.#stopped;
  }

  #fail(message: string): void {
    if (this.#failed || this.#stopped !== undefined) return;
    this.#failed = true;
    if (this.#db.open) this.#db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
    this.#options.onError?.(message);
    void this.#worker.terminate();
  }
}
