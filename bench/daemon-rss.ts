/**
 * bench/daemon-rss: memory of `agent run` holding 0, 100 and 1,000 dormant agents, and the wake
 * latency of a dormant agent (trigger committed → tick started). The daemon is a real child process
 * against relay-dev on loopback; agents are created straight in the home database with the CLI's
 * own `createAgentRecord`. Baseline in the same run: one empty SQLite transaction and one inbox
 * insert in-process, and one control-API HTTP round trip. Prints JSON lines (progress on stderr).
 * Run: `npm run build && node dist/bench/daemon-rss.js`
 * (env BENCH_AGENTS [1000], BENCH_WAKES [200], BENCH_SETTLE_MS [3000], BENCH_SAMPLES [7], BENCH_RSS_RUNS [3]).
 */
import { join } from 'node:path';
import { createAgentRecord } from '../src/cli/agents.js';
import { loadFastCrypto } from '../src/protocol/crypto.js';
import { deriveFromSeed, mnemonicToSeed } from '../src/protocol/nip06.js';
import { SqliteAgentStorage } from '../src/storage/sqlite/sqlite-agent-storage.js';
import { openInspector } from './inspector.js';
import { wakeLatency } from './wake-latency.js';
import { BENCH_MNEMONIC, makeHome, median, percentile, progress, round, rssOf, runBench, sleep, startDaemonChild, waitAgentsDormant, startRelayChild, type CliChild } from './child-processes.js';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 1000);
const WAKES = Number(process.env.BENCH_WAKES ?? 200);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 3000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 7);
const RUNS = Math.max(1, Number(process.env.BENCH_RSS_RUNS ?? 3));
const STEPS = [...new Set([0, Math.min(100, AGENTS), AGENTS])];
const GOAL_BYTES_PER_AGENT = 2048;
const GOAL_WAKE_P50_MS = 5;

/** What one daemon run holds: RSS as sampled, then RSS and V8 heap after a forced full GC. */
interface Memory {
  rawRssKiB: number;
  rssKiB: number;
  anonKiB: number;
  heapUsedKiB: number;
  heapTotalKiB: number;
  externalKiB: number;
}

async function measure(relayUrl: string): Promise<void> {
  const home = makeHome('bench-daemon-rss-', relayUrl, { idleMs: 250 });
  const dbFile = join(home, 'agents.db');
  const seed = mnemonicToSeed(BENCH_MNEMONIC);
  const storage = SqliteAgentStorage.open(dbFile);
  const memory = new Map<number, Memory>();
  let daemon: CliChild | undefined;
  try {
    for (const n of STEPS) {
      const t0 = performance.now();
      const have = (await storage.agents.list()).length;
      await storage.transaction(async (tx) => {
        for (let i = have; i < n; i++) await createAgentRecord(tx, seed, { name: `a${i}`, behavior: 'echo' }, [relayUrl], Date.now());
      });
      const createMs = performance.now() - t0;
      if (n > have) {
        // First run: every new agent ticks once (onCreate) and hibernates after idleMs; its profile is published.
        progress(`${n} agents: first run (create ticks)`);
        const first = await startDaemonChild(home);
        await waitAgentsDormant(dbFile, n);
        const settledMs = performance.now() - t0;
        const rss = await sampleRss(first.pid);
        await first.stop();
        console.log(JSON.stringify({ bench: 'daemon-rss-first-run', agents: n, newAgents: n - have, createRecordsMs: round(createMs), allDormantAfterMs: Math.round(settledMs), rssKiB: rss.rssKiB }));
      }
      // Separate processes differ by several MB of RSS: each N gets RUNS fresh starts and the median counts.
      const runs: Memory[] = [];
      for (let r = 0; r < RUNS; r++) {
        progress(`${n} agents: fresh start ${r + 1}/${RUNS}, all dormant`);
        daemon = await startDaemonChild(home, { inspect: true });
        await waitAgentsDormant(dbFile, n);
        await sleep(SETTLE_MS);
        const m = await sampleMemory(daemon);
        runs.push(m);
        console.log(JSON.stringify({ bench: 'daemon-rss-run', agents: n, run: r + 1, state: 'dormant', readyMs: Math.round(daemon.readyMs), ...m, samples: SAMPLES }));
        if (n !== AGENTS || r < RUNS - 1) {
          await daemon.stop();
          daemon = undefined;
        }
      }
      const m = medianMemory(runs);
      memory.set(n, m);
      console.log(JSON.stringify({ bench: 'daemon-rss', agents: n, state: 'dormant', runs: RUNS, ...m }));
    }
    perAgent(memory);
    if (daemon && AGENTS > 0) await wakeLatency(home, dbFile, storage, { wakes: WAKES, goalP50Ms: GOAL_WAKE_P50_MS });
    await daemon?.stop();
    await baseline(storage);
  } finally {
    await daemon?.stop();
    await storage.close();
  }
}

/** Field-wise median over runs. */
function medianMemory(runs: Memory[]): Memory {
  const of = (key: keyof Memory): number => median(runs.map((r) => r[key]));
  return { rawRssKiB: of('rawRssKiB'), rssKiB: of('rssKiB'), anonKiB: of('anonKiB'), heapUsedKiB: of('heapUsedKiB'), heapTotalKiB: of('heapTotalKiB'), externalKiB: of('externalKiB') };
}

/** Per-agent cost: (N=max − N=0) / max as the goal asks, and the marginal cost past the first step. */
function perAgent(memory: Map<number, Memory>): void {
  const mid = STEPS[1] ?? 0;
  const bytes = (key: keyof Memory, from: number): number => (((memory.get(AGENTS)?.[key] ?? NaN) - (memory.get(from)?.[key] ?? NaN)) * 1024) / Math.max(1, AGENTS - from);
  const rssPerAgent = bytes('rssKiB', 0);
  console.log(
    JSON.stringify({
      bench: 'daemon-rss-per-agent',
      agents: AGENTS,
      rssZeroKiB: memory.get(0)?.rssKiB,
      rssAllKiB: memory.get(AGENTS)?.rssKiB,
      rssPerAgentBytes: Math.round(rssPerAgent),
      heapPerAgentBytes: Math.round(bytes('heapUsedKiB', 0)),
      rawRssPerAgentBytes: Math.round(bytes('rawRssKiB', 0)),
      ...(mid > 0 && AGENTS > mid ? { marginalFrom: mid, marginalRssPerAgentBytes: Math.round(bytes('rssKiB', mid)), marginalHeapPerAgentBytes: Math.round(bytes('heapUsedKiB', mid)) } : {}),
      goalBytes: GOAL_BYTES_PER_AGENT,
      withinGoal: rssPerAgent < GOAL_BYTES_PER_AGENT,
    }),
  );
}

/** The median of SAMPLES readings of /proc/<pid>/status, 300 ms apart. */
async function sampleRss(pid: number): Promise<{ rssKiB: number; anonKiB: number }> {
  const readings: Array<{ rssKiB: number; anonKiB: number }> = [];
  for (let i = 0; i < SAMPLES; i++) {
    readings.push(rssOf(pid));
    await sleep(300);
  }
  return { rssKiB: median(readings.map((r) => r.rssKiB)), anonKiB: median(readings.map((r) => r.anonKiB)) };
}

/** RSS as found, then a full GC through the inspector and RSS/heap again (what the daemon actually retains). */
async function sampleMemory(daemon: CliChild): Promise<Memory> {
  if (!daemon.inspector) throw new Error('the daemon printed no inspector URL');
  const raw = await sampleRss(daemon.pid);
  const inspector = await openInspector(daemon.inspector);
  try {
    await inspector.collectGarbage();
    await inspector.collectGarbage();
    const usage = await inspector.memoryUsage();
    const after = await sampleRss(daemon.pid);
    const kib = (bytes: number): number => Math.round(bytes / 1024);
    return { rawRssKiB: raw.rssKiB, rssKiB: after.rssKiB, anonKiB: after.anonKiB, heapUsedKiB: kib(usage.heapUsed), heapTotalKiB: kib(usage.heapTotal), externalKiB: kib(usage.external) };
  } finally {
    inspector.close();
  }
}

/** In-process reference: one empty transaction and one inbox insert (in a transaction), same machine and run. */
async function baseline(storage: SqliteAgentStorage): Promise<void> {
  const agentIndex = (await storage.agents.list())[0]?.index;
  if (agentIndex === undefined) return;
  const sender = deriveFromSeed(mnemonicToSeed(BENCH_MNEMONIC), 0).publicKey;
  const empty: number[] = [];
  const insert: number[] = [];
  for (let i = 0; i < 2000; i++) {
    let t = performance.now();
    await storage.transaction(async () => undefined);
    empty.push(performance.now() - t);
    t = performance.now();
    await storage.transaction((tx) => tx.inbox.insert({ agentIndex, trigger: 'manual', sender, payload: { text: `baseline ${i}` }, now: Date.now() }));
    insert.push(performance.now() - t);
  }
  const us = (xs: number[], p: number): number => round(percentile(xs, p) * 1000, 1);
  console.log(
    JSON.stringify({
      bench: 'daemon-wake-baseline-sqlite',
      n: empty.length,
      emptyTransactionUs: { p50: us(empty, 0.5), p99: us(empty, 0.99) },
      inboxInsertTransactionUs: { p50: us(insert, 0.5), p99: us(insert, 0.99) },
    }),
  );
}

await runBench('daemon-rss', async () => {
  await loadFastCrypto();
  // The relay is a child too, so this process's event loop only times the daemon.
  const relay = await startRelayChild();
  try {
    await measure(relay.url);
  } finally {
    await relay.stop();
  }
});
