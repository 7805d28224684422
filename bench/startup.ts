/**
 * bench/startup: how fast `agent run` is ready with 0, 1,000 and 10,000 dormant agents, what a first
 * run with 1,000 new agents costs (create ticks, paced profiles), and the daemon's memory with 10,000
 * dormant agents against the same daemon with none (the baseline of the same run); memory is sampled
 * after every step, and the slope between the two largest steps is what each further agent costs. The daemon and
 * relay-dev are child processes on loopback; agents are written straight into the home database.
 * Steps past BENCH_DAEMON_DRAIN_MAX agents do not wait for the daemon's outbox: a start queues a claim
 * per agent and a stop a final snapshot per agent (~8 events each), many minutes of the daemon's
 * publishing at 10,000 agents. There the first run waits until its profiles and claims are queued,
 * and after each stop the bench publishes what is pending straight to relay-dev (startup-drain.ts), so
 * every start finds the home as after a drain and the whole step stays bounded.
 * Prints JSON lines (progress on stderr).
 * Run: `npm run build && node dist/bench/startup.js`
 * (env BENCH_STARTUP_AGENTS [1000,10000], BENCH_FIRST_RUN_MAX [1000], BENCH_DAEMON_DRAIN_MAX [1000], BENCH_STARTUP_RUNS [3],
 * BENCH_SETTLE_MS [3000], BENCH_HEAP_SNAPSHOT_DIR, BENCH_DAEMON_NODE_FLAGS e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { join } from 'node:path';
import { loadFastCrypto } from '../src/protocol/crypto.js';
import { mnemonicToSeed, Nip06Deriver } from '../src/protocol/nip06.js';
import { openDatabase } from '../src/storage/sqlite/database.js';
import { SqliteAgentStorage } from '../src/storage/sqlite/sqlite-agent-storage.js';
import { MANIFEST_D } from '../src/recovery/format.js';
import { openInspector } from './inspector.js';
import { BENCH_MNEMONIC, cpuSecondsOf, makeHome, median, progress, rssOf, runBench, sleep, startDaemonChild, waitAgentsDormant, startRelayChild, waitFor, type CliChild } from './child-processes.js';
import { drainOutbox, type DrainReport } from './startup-drain.js';

const STEPS = [0, ...(process.env.BENCH_STARTUP_AGENTS ?? '1000,10000').split(',').map(Number).filter((n) => n > 0)].sort((a, b) => a - b);
const FIRST_RUN_MAX = Number(process.env.BENCH_FIRST_RUN_MAX ?? 1000);
const DAEMON_DRAIN_MAX = Number(process.env.BENCH_DAEMON_DRAIN_MAX ?? 1000);
/** How long a daemon with many agents may take to stop (it writes every agent's final snapshot) before it is killed. */
const STOP_MS = (n: number): number => 30_000 + n * 20;
const RUNS = Math.max(1, Number(process.env.BENCH_STARTUP_RUNS ?? 3));
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 3000);
const MAX = STEPS[STEPS.length - 1]!;
const GOAL_READY_MS: Record<number, number> = { 1000: 1500, 10000: 5000 };
const GOAL_RSS_RATIO = 1.5;
const GOAL_HEAP_PER_AGENT_BYTES = 2048;

interface Memory {
  rssKiB: number;
  /** RSS not backed by files (the node binary's and libraries' pages are the rest). */
  rssAnonKiB: number;
  heapUsedKiB: number;
  /** The V8 heap as committed (what RSS sees of it, up to pages not touched). */
  heapTotalKiB: number;
  /** Memory of C++ objects bound to JS (Buffers, SQLite, WebSocket). */
  externalKiB: number;
}

async function measure(relayUrl: string): Promise<void> {
  const home = makeHome('bench-startup-', relayUrl, { idleMs: 250 });
  const dbFile = join(home, 'agents.db');
  const deriver = new Nip06Deriver(mnemonicToSeed(BENCH_MNEMONIC));
  const storage = SqliteAgentStorage.open(dbFile);
  const ready = new Map<number, number>();
  const memory = new Map<number, Memory>();
  try {
    for (const n of STEPS) {
      const have = (await storage.agents.list()).length;
      if (n > have) {
        const t0 = performance.now();
        // As `agent create` writes them (the CLI's createAgentRecord), with the m/44'/1237' node derived once.
        await storage.transaction(async (tx) => {
          for (let i = have; i < n; i++) {
            await tx.agents.create({ name: `a${i}`, behavior: 'echo', pubkey: (index) => deriver.derive(index + 1).publicKey, config: { behavior: 'echo', relays: [relayUrl] }, state: 'creating', now: Date.now() });
          }
        });
        const createMs = performance.now() - t0;
        const fresh = n - have;
        // Beyond FIRST_RUN_MAX new agents, their create ticks are skipped (rows set dormant): the bench stays minutes long.
        const skipped = fresh > FIRST_RUN_MAX;
        if (skipped) setDormant(dbFile);
        progress(`${n} agents: first run with ${fresh} new agents${skipped ? ' (create ticks skipped)' : ''}`);
        const t1 = performance.now();
        const since = Date.now();
        const benchDrains = n > DAEMON_DRAIN_MAX;
        const first = await startDaemonChild(home, { stopTimeoutMs: STOP_MS(n) });
        if (benchDrains) await waitQueued(dbFile, n, fresh, since);
        else await waitAgentsDormant(dbFile, n);
        const settledMs = performance.now() - t1;
        const t2 = performance.now();
        await first.stop();
        const stopMs = performance.now() - t2;
        const drained = benchDrains ? await drainOutbox(dbFile, relayUrl) : undefined;
        console.log(JSON.stringify({ bench: 'startup-first-run', agents: n, newAgents: fresh, createTicks: !skipped, createRecordsMs: Math.round(createMs), readyMs: Math.round(first.readyMs), [benchDrains ? 'allDormantAndQueuedAfterMs' : 'allDormantAfterMs']: Math.round(settledMs), stopMs: Math.round(stopMs), ...profileRate(dbFile, since), ...drainFields(drained) }));
      }
      const times: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        progress(`${n} agents: fresh start ${r + 1}/${RUNS}`);
        const t0 = performance.now();
        const benchDrains = n > DAEMON_DRAIN_MAX;
        // The last start also has the inspector open (for the memory sample), which costs it ~0.3 s: `inspected` says which.
        const inspected = r === RUNS - 1;
        const startedAt = Date.now();
        const daemon = await startDaemonChild(home, { inspect: inspected, stopTimeoutMs: STOP_MS(n) });
        // The daemon's CPU time (every thread) when its ready line was read: on a loaded machine less noisy than the wall time.
        const readyCpuMs = Math.round(cpuSecondsOf(daemon.pid) * 1000);
        if (benchDrains) await waitDormant(dbFile, n);
        else await waitAgentsDormant(dbFile, n);
        const settledMs = performance.now() - t0;
        times.push(daemon.readyMs);
        const line: Record<string, unknown> = { bench: 'startup-run', agents: n, run: r + 1, readyMs: Math.round(daemon.readyMs), readyCpuMs, [benchDrains ? 'allDormantAfterMs' : 'outboxDrainedAfterMs']: Math.round(settledMs), ...(inspected ? { inspected } : {}) };
        if (inspected) {
          // Memory with every agent hosted: the agents are taken on once the split-brain check has cleared them, each then queues its claim.
          await waitClaims(dbFile, n, startedAt);
          await sleep(SETTLE_MS);
          const m = await sampleMemory(daemon, n);
          memory.set(n, m);
          Object.assign(line, m);
        }
        const t1 = performance.now();
        await daemon.stop();
        line.stopMs = Math.round(performance.now() - t1);
        if (benchDrains) Object.assign(line, drainFields(await drainOutbox(dbFile, relayUrl)));
        console.log(JSON.stringify(line));
      }
      ready.set(n, median(times));
    }
    summary(ready, memory);
  } finally {
    await storage.close();
  }
}

/** Every agent dormant (the outbox may still be publishing). */
async function waitDormant(dbFile: string, n: number): Promise<void> {
  const db = openDatabase(dbFile, { readonly: true });
  try {
    const awake = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM agents WHERE state <> 'dormant'");
    await waitFor(`${n} agents dormant`, () => awake.get()?.n === 0, 120_000 + n * 20, 200);
  } finally {
    db.close();
  }
}

/**
 * A first run the bench drains itself: every agent dormant, the profiles of the `fresh` new agents
 * queued (kinds 0, 10002, 10050) and a start claim (a snapshot manifest) queued for each of the `n`.
 */
async function waitQueued(dbFile: string, n: number, fresh: number, since: number): Promise<void> {
  const db = openDatabase(dbFile, { readonly: true });
  try {
    const awake = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM agents WHERE state <> 'dormant'");
    const profiles = db.prepare<[number], { n: number }>("SELECT count(*) AS n FROM outbox WHERE json_extract(event_json, '$.kind') IN (0, 10002, 10050) AND created_at >= ?");
    const manifests = db.prepare<[number, string], { n: number }>("SELECT count(*) AS n FROM outbox WHERE json_extract(event_json, '$.kind') = 30078 AND created_at >= ? AND instr(event_json, ?) > 0");
    const dTag = JSON.stringify(['d', MANIFEST_D]);
    await waitFor(`${n} agents dormant with their profiles and claims queued`, () => awake.get()?.n === 0 && profiles.get(since)!.n >= fresh * 3 && manifests.get(since, dTag)!.n >= n, 300_000 + n * 60, 500);
  } finally {
    db.close();
  }
}

/** A start claim (a snapshot manifest) queued since `since` for each of the `n` agents. */
async function waitClaims(dbFile: string, n: number, since: number): Promise<void> {
  if (n === 0) return;
  const db = openDatabase(dbFile, { readonly: true });
  try {
    const manifests = db.prepare<[number, string], { n: number }>("SELECT count(*) AS n FROM outbox WHERE json_extract(event_json, '$.kind') = 30078 AND created_at >= ? AND instr(event_json, ?) > 0");
    const dTag = JSON.stringify(['d', MANIFEST_D]);
    await waitFor(`a start claim queued for each of ${n} agents`, () => manifests.get(since, dTag)!.n >= n, 120_000 + n * 30, 500);
  } finally {
    db.close();
  }
}

function drainFields(report: DrainReport | undefined): Record<string, number> {
  return report ? { benchDrainedEvents: report.delivered, benchDrainRefused: report.refused, benchDrainMs: report.ms } : {};
}

/** Agents still `creating` become `dormant` without their create tick (only for steps past FIRST_RUN_MAX). */
function setDormant(dbFile: string): void {
  const db = openDatabase(dbFile);
  try {
    db.prepare("UPDATE agents SET state = 'dormant' WHERE state = 'creating'").run();
  } finally {
    db.close();
  }
}

/** The profile events (kinds 0, 10002, 10050) queued since `since`: how many, and over how long they were delivered. */
function profileRate(dbFile: string, since: number): Record<string, number> {
  const db = openDatabase(dbFile, { readonly: true });
  try {
    const row = db
      .prepare<[number], { n: number; d0: number; d1: number }>(
        `SELECT count(*) AS n, min(delivered_at) AS d0, max(delivered_at) AS d1
         FROM outbox WHERE json_extract(event_json, '$.kind') IN (0, 10002, 10050) AND created_at >= ?`,
      )
      .get(since);
    if (!row || row.n === 0) return { profileEvents: 0 };
    const per = (ms: number): number => Math.round((row.n * 1000) / Math.max(1, ms));
    // Rows carry the time the run started publishing (not each batch's), so only deliveries show the pace.
    return { profileEvents: row.n, profileDeliveredOverMs: row.d1 - row.d0, profileDeliveredPerSecond: per(row.d1 - row.d0) };
  } finally {
    db.close();
  }
}

function summary(ready: Map<number, number>, memory: Map<number, Memory>): void {
  const base = memory.get(0);
  const top = memory.get(MAX);
  const readyMs = Object.fromEntries([...ready].map(([n, ms]) => [n, Math.round(ms)]));
  const overBase = Object.fromEntries([...ready].filter(([n]) => n > 0).map(([n, ms]) => [n, Math.round(ms - (ready.get(0) ?? 0))]));
  const withinReady = Object.fromEntries([...ready].filter(([n]) => GOAL_READY_MS[n] !== undefined).map(([n, ms]) => [n, ms <= GOAL_READY_MS[n]!]));
  const rssRatio = base && top ? top.rssKiB / base.rssKiB : NaN;
  const heapPerAgent = base && top && MAX > 0 ? ((top.heapUsedKiB - base.heapUsedKiB) * 1024) / MAX : NaN;
  // Between the two largest steps: what each further dormant agent costs, without the fixed share
  // (code compiled once agents run, the bounded signer cache) that the figure over 0 agents spreads over N.
  const sampled = [...memory.keys()].filter((n) => n > 0).sort((a, b) => a - b);
  const [lo, hi] = sampled.slice(-2);
  const slope = lo !== undefined && hi !== undefined ? ((memory.get(hi)!.heapUsedKiB - memory.get(lo)!.heapUsedKiB) * 1024) / (hi - lo) : undefined;
  console.log(
    JSON.stringify({
      bench: 'startup',
      runs: RUNS,
      readyMsMedian: readyMs,
      readyMsOverZeroAgents: overBase,
      readyGoalMs: GOAL_READY_MS,
      readyWithinGoal: withinReady,
      agents: MAX,
      rssZeroKiB: base?.rssKiB,
      rssAllKiB: top?.rssKiB,
      rssRatio: Math.round(rssRatio * 100) / 100,
      rssRatioGoal: GOAL_RSS_RATIO,
      heapZeroKiB: base?.heapUsedKiB,
      heapAllKiB: top?.heapUsedKiB,
      heapPerAgentBytes: Math.round(heapPerAgent),
      heapPerAgentGoalBytes: GOAL_HEAP_PER_AGENT_BYTES,
      ...(slope !== undefined ? { heapSlopeBytesPerAgent: Math.round(slope), heapSlopeBetween: [lo, hi] } : {}),
      memoryWithinGoal: rssRatio <= GOAL_RSS_RATIO && heapPerAgent <= GOAL_HEAP_PER_AGENT_BYTES,
    }),
  );
}

/** RSS after two forced full GCs (median of 5 readings) and the V8 heap, through the loopback inspector. */
async function sampleMemory(daemon: CliChild, agents: number): Promise<Memory> {
  if (!daemon.inspector) throw new Error('the daemon printed no inspector URL');
  const inspector = await openInspector(daemon.inspector);
  try {
    await inspector.collectGarbage();
    await inspector.collectGarbage();
    const usage = await inspector.memoryUsage();
    const readings: number[] = [];
    const anon: number[] = [];
    for (let i = 0; i < 5; i++) {
      const rss = rssOf(daemon.pid);
      readings.push(rss.rssKiB);
      anon.push(rss.anonKiB);
      await sleep(200);
    }
    // BENCH_HEAP_SNAPSHOT_DIR: one .heapsnapshot per sampled N, to diff what a dormant agent holds.
    // Taken after the RSS readings: serializing a snapshot grows the daemon's RSS by ~100 MiB.
    const dir = process.env.BENCH_HEAP_SNAPSHOT_DIR;
    if (dir) await inspector.takeHeapSnapshot(join(dir, `daemon-${agents}.heapsnapshot`));
    const kib = (bytes: number): number => Math.round(bytes / 1024);
    return { rssKiB: median(readings), rssAnonKiB: median(anon), heapUsedKiB: kib(usage.heapUsed), heapTotalKiB: kib(usage.heapTotal), externalKiB: kib(usage.external) };
  } finally {
    inspector.close();
  }
}

await runBench('startup', async () => {
  await loadFastCrypto();
  const relay = await startRelayChild();
  try {
    await measure(relay.url);
  } finally {
    await relay.stop();
  }
});
