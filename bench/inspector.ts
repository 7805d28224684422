/**
 * A minimal Chrome DevTools Protocol client for a child started with `--inspect=127.0.0.1:0`: the
 * memory bench forces a full GC in the daemon and reads its process.memoryUsage(), so what it
 * reports is what the daemon retains, not garbage that has not been collected yet; the throughput
 * bench profiles the daemon over its measured window only (BENCH_PROFILE_DIR).
 */
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';

/** One inspector session. */
export interface InspectorSession {
  /** A full, synchronous garbage collection in the inspected process. */
  collectGarbage(): Promise<void>;
  /** The inspected process's process.memoryUsage(), in bytes. */
  memoryUsage(): Promise<NodeJS.MemoryUsage>;
  /** Starts the V8 CPU profiler in the inspected process (for a profile of one measured window). */
  startProfile(): Promise<void>;
  /** Stops it and returns the profile (the `.cpuprofile` JSON that DevTools and `--cpu-prof` write). */
  stopProfile(): Promise<unknown>;
  /** Writes a V8 heap snapshot of the inspected process to `file` (for diffing what a dormant agent holds). */
  takeHeapSnapshot(file: string): Promise<void>;
  close(): void;
}

/** Connects to an inspector ws:// URL (loopback only). */
export async function openInspector(url: string, timeoutMs = 10_000): Promise<InspectorSession> {
  if (!/^ws:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error(`not a loopback inspector URL: ${url}`);
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`inspector did not answer within ${timeoutMs} ms`)), timeoutMs);
    ws.once('open', () => (clearTimeout(timer), resolve()));
    ws.once('error', (error) => (clearTimeout(timer), reject(error)));
  });
  let nextId = 1;
  let snapshotChunks: string[] | undefined;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString()) as { id?: number; method?: string; params?: { chunk?: string }; result?: unknown; error?: { message: string } };
    if (msg.method === 'HeapProfiler.addHeapSnapshotChunk' && snapshotChunks && typeof msg.params?.chunk === 'string') snapshotChunks.push(msg.params.chunk);
    const waiter = msg.id === undefined ? undefined : pending.get(msg.id);
    if (!waiter || msg.id === undefined) return;
    pending.delete(msg.id);
    if (msg.error) waiter.reject(new Error(`inspector: ${msg.error.message}`));
    else waiter.resolve(msg.result);
  });
  const call = (method: string, params: object = {}): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => (pending.delete(id), reject(new Error(`inspector: ${method} timed out`))), timeoutMs * 6);
      pending.set(id, { resolve: (v) => (clearTimeout(timer), resolve(v)), reject: (e) => (clearTimeout(timer), reject(e)) });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    async collectGarbage() {
      await call('HeapProfiler.collectGarbage');
    },
    async memoryUsage() {
      const result = (await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as { result?: { value?: string } };
      if (typeof result.result?.value !== 'string') throw new Error('inspector: process.memoryUsage() gave no value');
      return JSON.parse(result.result.value) as NodeJS.MemoryUsage;
    },
    async startProfile() {
      await call('Profiler.enable');
      await call('Profiler.start');
    },
    async stopProfile() {
      return ((await call('Profiler.stop')) as { profile: unknown }).profile;
    },
    async takeHeapSnapshot(file: string) {
      snapshotChunks = [];
      await call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      writeFileSync(file, snapshotChunks.join(''));
      snapshotChunks = undefined;
    },
    close() {
      for (const waiter of pending.values()) waiter.reject(new Error('inspector closed'));
      ws.close();
    },
  };
}
