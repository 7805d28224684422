/**
 * bench/dm-throughput's baseline: the crypto-bound rate of answering DMs on this machine's cores.
 * One worker thread per core (os.availableParallelism) runs its share of the same DM plan
 * (dm-crypto-work.ts: wraps built, relay and recipient checks, unwraps, and with a tick record the
 * reply's trajectory events signed and checked), all started together; the
 * rate is DMs over the wall time until the last worker is done. The CPU time is this process's.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CryptoWorkerData } from './dm-crypto-worker.js';

export interface CryptoBaseline {
  threads: number;
  dms: number;
  ms: number;
  perSecond: number;
  /** CPU ms per DM, every thread of this process (wasm and JIT warm). */
  cpuMsPerDm: number;
}

/** Runs `dms` (pairs of sender and agent index) across `threads` workers and times them. */
export async function cryptoBaseline(senderKeys: string[], agentKeys: string[], dms: Array<[number, number]>, options: { trajectory?: CryptoWorkerData['trajectory']; threads?: number } = {}): Promise<CryptoBaseline> {
  const threads = options.threads ?? availableParallelism();
  const shares = Array.from({ length: threads }, (_, t) => dms.filter((_, i) => i % threads === t));
  const workers = shares.map((share) => {
    const data: CryptoWorkerData = { senderKeys, agentKeys, dms: share, warmup: 20, ...(options.trajectory ? { trajectory: options.trajectory } : {}) };
    return new Worker(new URL('./dm-crypto-worker.js', import.meta.url), { workerData: data });
  });
  try {
    const next = (w: Worker, key: 'ready' | 'done'): Promise<{ ms?: number }> =>
      new Promise((resolve, reject) => {
        const onMessage = (m: Record<string, unknown>): void => {
          if (!m[key]) return;
          w.off('message', onMessage);
          w.off('error', reject);
          resolve(m);
        };
        w.on('message', onMessage);
        w.once('error', reject);
      });
    await Promise.all(workers.map((w) => next(w, 'ready')));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const done = workers.map((w) => next(w, 'done'));
    for (const w of workers) w.postMessage('go');
    await Promise.all(done);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { threads, dms: dms.length, ms, perSecond: (dms.length * 1000) / ms, cpuMsPerDm: (cpu.user + cpu.system) / 1000 / dms.length };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
