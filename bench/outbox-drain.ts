/**
 * bench/outbox-drain: the durable outbox's pace. BENCH_EVENTS signed events of BENCH_AGENTS authors
 * are queued in a SQLite outbox (real file) and sent by the OutboxPublisher through relay-dev (a
 * child process, events in memory, no rate limit): every row a background row (`own` target)
 * through `drain` (the stop's last delivery: final snapshots), then through the running loop
 * (`start`: a first run's profiles, start claims), then every row a conversation row (a reply to
 * someone) through the loop. Baseline in the same run: the same events published by a bare pool
 * client (WsRelayPool, no storage) keeping as many in flight as the outbox's window; a fresh relay
 * for each. All of it at each of BENCH_LATENCY_MS one-way delays (a loopback TCP proxy,
 * latency-proxy.ts): at 0 the pace is what the CPU allows, at 25 ms what waiting for answers allows.
 * Then (BENCH_STOP_AGENTS > 0) the graceful stop of `agent run` holding that many agents, SIGTERM →
 * exit, after their first run and after a quiet run, against the same daemon holding none, and the
 * rows left pending after it.
 *
 * "Before" figures: build the parent commit and run this compiled script from its tree (it uses only
 * what both have: `drain` when the publisher has it, else runOnce rounds, which was the stop's drain),
 * e.g. `cp dist/bench/{outbox-drain,latency-proxy}.js <old>/dist/bench/ && node <old>/dist/bench/outbox-drain.js`.
 * Run: `npm run build && node dist/bench/outbox-drain.js`
 * (env BENCH_EVENTS [5000], BENCH_AGENTS [1000], BENCH_WINDOW [256], BENCH_ROUNDS [3],
 * BENCH_LATENCY_MS [0,25], BENCH_STOP_AGENTS [1000; 0 skips the stop], BENCH_STOP_RUNS [2]).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 } from '@noble/hashes/sha2.js';
import { createAgentRecord } from '../src/cli/agents.js';
import { finalizeEvent, loadFastCrypto } from '../src/protocol/crypto.js';
import type { NostrEvent } from '../src/protocol/event.js';
import { mnemonicToSeed } from '../src/protocol/nip06.js';
import { OutboxPublisher } from '../src/relay/outbox-publisher.js';
import { CachedRelayLists } from '../src/relay/relay-lists.js';
import { WsRelayPool } from '../src/relay/relay-pool.js';
import { openDatabase } from '../src/storage/sqlite/database.js';
import { enqueueOutbox } from '../src/storage/sqlite/outbox-store.js';
import { SqliteAgentStorage } from '../src/storage/sqlite/sqlite-agent-storage.js';
import type { OutboxTarget } from '../src/storage/types.js';
import { startLatencyProxy } from './latency-proxy.js';
import { BENCH_MNEMONIC, makeHome, median, progress, round, runBench, startRelayChild, waitAgentsDormant, waitFor } from './child-processes.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000);
const AGENTS = Math.max(1, Number(process.env.BENCH_AGENTS ?? 1000));
const WINDOW = Number(process.env.BENCH_WINDOW ?? 256);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const STOP_AGENTS = Number(process.env.BENCH_STOP_AGENTS ?? 1000);
const STOP_RUNS = Math.max(1, Number(process.env.BENCH_STOP_RUNS ?? 2));
/** One-way delays (ms) put between client and relay by a loopback proxy; 0 dials the relay itself. */
const LATENCIES = (process.env.BENCH_LATENCY_MS ?? '0,25').split(',').map(Number);
const AGENT_BIN = fileURLToPath(new URL('../../bin/agent.js', import.meta.url));

/** BENCH_EVENTS kind-1 events, ~300 bytes of content each, round-robin over BENCH_AGENTS fixed keys. */
function makeEvents(): NostrEvent[] {
  const keys = Array.from({ length: Math.min(AGENTS, EVENTS) }, (_, i) => sha256(new TextEncoder().encode(`outbox-drain agent ${i}`)));
  const at = Math.floor(Date.now() / 1000);
  return Array.from({ length: EVENTS }, (_, i) => finalizeEvent({ kind: 1, created_at: at, tags: [['t', 'bench']], content: `event ${i} `.padEnd(300, '.') }, keys[i % keys.length]!));
}

function newPool(): WsRelayPool {
  return new WsRelayPool({ backoff: { initialMs: 100, maxMs: 1000, jitter: 0 }, pingIntervalMs: 0 });
}

/** A fresh relay-dev child, behind a delaying proxy when `latencyMs` > 0. */
async function freshRelay(latencyMs: number): Promise<{ url: string; stop(): Promise<void> }> {
  const relay = await startRelayChild();
  if (latencyMs <= 0) return relay;
  const proxy = await startLatencyProxy(relay.url, latencyMs);
  return {
    url: proxy.url,
    stop: async () => {
      await proxy.close();
      await relay.stop();
    },
  };
}

/** The baseline: the events published by a bare pool client, `WINDOW` in flight, into a fresh relay. */
async function barePool(events: NostrEvent[], latencyMs: number): Promise<number> {
  const relay = await freshRelay(latencyMs);
  const pool = newPool();
  try {
    await pool.addRelay(relay.url).waitConnected({ timeoutMs: 10_000 });
    let next = 0;
    let refused = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(WINDOW, events.length) }, async () => {
        while (next < events.length) {
          const [r] = await pool.publish(events[next++]!, { relays: [relay.url] });
          if (!r?.ok) refused++;
        }
      }),
    );
    const ms = performance.now() - t0;
    if (refused > 0) throw new Error(`the relay refused ${refused} events of the baseline`);
    return ms;
  } finally {
    await pool.close();
    await relay.stop();
  }
}

/** The outbox: every event queued as one row (`target`), drained by the publisher into a fresh relay. */
async function outbox(events: NostrEvent[], latencyMs: number, mode: 'drain' | 'loop', target: (relay: string) => OutboxTarget): Promise<{ ms: number; groups?: number; maxInFlight?: number }> {
  const relay = await freshRelay(latencyMs);
  const dir = mkdtempSync(join(tmpdir(), 'outbox-drain-'));
  const db = openDatabase(join(dir, 'agents.db'));
  const pool = newPool();
  try {
    const now = Date.now();
    db.transaction(() => {
      for (const event of events) enqueueOutbox(db, { agentPubkey: event.pubkey, event, target: target(relay.url), now, deadlineAt: now + 3_600_000 });
    })();
    const storage = new SqliteAgentStorage(db);
    const lists = new CachedRelayLists({ pool, discoveryRelays: () => [relay.url] });
    const publisher = new OutboxPublisher({ storage, pool, lists, ownRelays: () => [relay.url], window: WINDOW });
    await pool.addRelay(relay.url).waitConnected({ timeoutMs: 10_000 });
    const t0 = performance.now();
    const left = (): number => (db.prepare(`SELECT count(*) AS n FROM outbox WHERE status <> 'delivered'`).get() as { n: number }).n;
    const drainable = publisher as unknown as { drain?: (deadline: number) => Promise<void>; stats?: () => { groups: number; maxInFlight: number } };
    if (mode === 'loop') {
      // The running daemon's loop (start claims, first-run profiles, answers): started, watched until empty.
      publisher.start();
      await waitFor('the outbox drained by the loop', () => left() === 0, 600_000, 5);
    } else if (drainable.drain) {
      // The stop's drain, as each version has it: the window's drain, or runOnce rounds until nothing is due.
      await drainable.drain(Date.now() + 600_000);
    } else while ((await publisher.runOnce()).length > 0);
    const ms = performance.now() - t0;
    if (left() > 0) throw new Error(`${left()} rows not delivered`);
    await publisher.stop();
    const stats = drainable.stats?.();
    return { ms, ...(stats ? { groups: stats.groups, maxInFlight: stats.maxInFlight } : {}) };
  } finally {
    await pool.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
    await relay.stop();
  }
}

/** `agent run` on `home` until `daemon ready`; `stop()` sends SIGTERM and resolves with ms until it exited. */
async function daemon(home: string): Promise<{ stop(): Promise<number> }> {
  const child = spawn(process.execPath, [AGENT_BIN, 'run', '--home', home, '--log-level', 'warn'], { env: { ...process.env, AGENT_MNEMONIC: BENCH_MNEMONIC, AGENT_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  // Not left behind when the bench itself is stopped (runBench exits on SIGINT/SIGTERM).
  const kill = (): void => void child.kill('SIGKILL');
  process.once('exit', kill);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve(process.off('exit', kill) && undefined)));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`agent run: not ready in 300 s; stderr: ${stderr.trim()}`)), 300_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('daemon ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`agent run exited (${code}) before it was ready; stderr: ${stderr.trim()}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    stop: async () => {
      const t0 = performance.now();
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(killer);
      return performance.now() - t0;
    },
  };
}

const pendingIn = (dbFile: string): number => {
  const db = openDatabase(dbFile, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM outbox WHERE status = 'pending'`).get() as { n: number }).n;
  } finally {
    db.close();
  }
};

/** Stop times of `agent run` with `n` agents: after their first run (each queues a final snapshot), and after quiet runs. */
async function stopTimes(n: number, relay: string, seed: Uint8Array): Promise<Record<string, number>> {
  const home = makeHome('outbox-stop-', relay, { idleMs: 250 });
  const dbFile = join(home, 'agents.db');
  const storage = new SqliteAgentStorage(openDatabase(dbFile));
  await storage.transaction(async (tx) => {
    for (let i = 0; i < n; i++) await createAgentRecord(tx, seed, { name: `s${i}`, behavior: 'echo' }, [relay], Date.now());
  });
  await storage.close();
  progress(`${n} agents: first run`);
  const first = await daemon(home);
  await waitAgentsDormant(dbFile, n);
  const firstStopMs = await first.stop();
  const firstLeft = pendingIn(dbFile);
  const quiet: number[] = [];
  let quietLeft = 0;
  for (let r = 0; r < STOP_RUNS; r++) {
    progress(`${n} agents: quiet run ${r + 1}/${STOP_RUNS}`);
    const d = await daemon(home);
    await waitAgentsDormant(dbFile, n);
    quiet.push(await d.stop());
    quietLeft = pendingIn(dbFile);
  }
  return { firstStopMs: Math.round(firstStopMs), firstPendingAfter: firstLeft, quietStopMs: Math.round(median(quiet)), quietPendingAfter: quietLeft };
}

await runBench('outbox-drain', async () => {
  await loadFastCrypto();
  progress(`signing ${EVENTS} events of ${Math.min(AGENTS, EVENTS)} agents`);
  const events = makeEvents();
  const rate = (ms: number): number => Math.round(EVENTS / (ms / 1000));
  for (const latencyMs of LATENCIES) {
    const phases = {
      'drain background': (ev: NostrEvent[]) => outbox(ev, latencyMs, 'drain', () => ({ type: 'own' })),
      'loop background': (ev: NostrEvent[]) => outbox(ev, latencyMs, 'loop', () => ({ type: 'own' })),
      'loop conversation': (ev: NostrEvent[]) => outbox(ev, latencyMs, 'loop', (relay) => ({ type: 'relays', relays: [relay] })),
    };
    const runs: Record<string, number[]> = { pool: [] };
    const last: Record<string, { groups?: number; maxInFlight?: number }> = {};
    for (let r = 0; r < ROUNDS; r++) {
      progress(`one-way latency ${latencyMs} ms: round ${r + 1}/${ROUNDS}`);
      runs.pool!.push(await barePool(events, latencyMs));
      for (const [name, run] of Object.entries(phases)) {
        const result = await run(events);
        (runs[name] ??= []).push(result.ms);
        last[name] = result;
      }
    }
    const poolRate = rate(median(runs.pool!));
    console.log(JSON.stringify({ bench: 'outbox-drain-baseline', what: 'bare pool client', latencyMs, events: EVENTS, inFlight: WINDOW, ms: Math.round(median(runs.pool!)), eventsPerSec: poolRate }));
    for (const name of Object.keys(phases)) {
      const ms = median(runs[name]!);
      const [mode, lane] = name.split(' ');
      console.log(JSON.stringify({ bench: 'outbox-drain', mode, lane, latencyMs, events: EVENTS, agents: Math.min(AGENTS, EVENTS), window: WINDOW, ms: Math.round(ms), eventsPerSec: rate(ms), vsBarePool: round(rate(ms) / poolRate), groups: last[name]?.groups, maxInFlight: last[name]?.maxInFlight }));
    }
  }
  if (STOP_AGENTS > 0) {
    const relay = await startRelayChild();
    try {
      const seed = mnemonicToSeed(BENCH_MNEMONIC);
      const none = await stopTimes(0, relay.url, seed);
      const many = await stopTimes(STOP_AGENTS, relay.url, seed);
      console.log(JSON.stringify({ bench: 'outbox-drain-stop', agents: STOP_AGENTS, ...many, baselineAgents: 0, baselineFirstStopMs: none.firstStopMs, baselineQuietStopMs: none.quietStopMs }));
    } finally {
      await relay.stop();
    }
  }
});
