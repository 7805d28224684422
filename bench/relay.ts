/**
 * bench/relay: relay-dev ingest and query speed, against the raw signature-verification rate measured
 * in the same run on one core, right before each ingest round (the machine's load drifts between
 * minutes, so each round gets its own baseline and the summary reports medians). The relay runs in a
 * child process (its own event loop, its default worker pool, a WAL file in a temp dir); clients run
 * here. Prints JSON lines.
 * Run: `npm run build && node dist/bench/relay.js` (env BENCH_EVENTS, BENCH_CONNECTIONS, BENCH_REQS,
 * BENCH_ROUNDS [3], BENCH_VERIFY_THREADS for the relay's signature worker count, BENCH_RELAY_NODE_FLAGS
 * for node flags of the relay child, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initNostrWasm } from 'nostr-wasm';
import WebSocket from 'ws';
import { defaultVerifyThreads, startRelay } from '../relay-dev/index.js';
import { cryptoEngine, getPublicKey, loadFastCrypto, verifyEvent } from '../src/protocol/crypto.js';
import type { NostrEvent } from '../src/protocol/event.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
const REQS = Number(process.env.BENCH_REQS ?? 1000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const NODE_FLAGS = (process.env.BENCH_RELAY_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const AUTHORS = 50;
const round = (n: number): number => Math.round(n * 100) / 100;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

if (process.argv[2] === '--serve') await serve(process.argv[3] ?? ':memory:');
else await main();

/** Child mode: run the relay until SIGTERM, print its URL (and how its workers verify) as JSON. */
async function serve(dbFile: string): Promise<void> {
  const threads = process.env.BENCH_VERIFY_THREADS;
  const warnings: string[] = [];
  const running = await startRelay({
    port: 0,
    dbFile,
    limits: { eventsPerSecond: 0 },
    verifyThreads: threads === undefined ? undefined : Number(threads),
    logger: { log: (record) => void (record.level === 'warn' && warnings.push(String(record.msg))) },
  });
  const wanted = threads === undefined ? defaultVerifyThreads() : Number(threads);
  const deadline = Date.now() + 10_000; // let every signature worker load before clients arrive
  while (running.relay.verifier.readyWorkers < wanted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const inline = warnings.some((w) => w.startsWith('signature worker'));
  console.log(JSON.stringify({ url: running.url, verifyThreads: running.relay.verifier.readyWorkers, verifyEngine: inline ? 'inline' : 'nostr-wasm workers' }));
  await new Promise((resolve) => process.once('SIGTERM', resolve));
  await running.close();
}

interface Round {
  verifyPerSec: number;
  ingestPerSec: number;
  p50: number;
  p99: number;
}

async function main(): Promise<void> {
  await loadFastCrypto();
  const nw = await initNostrWasm(); // signing the inputs only; the baseline below is the project's verifyEvent
  const keys = Array.from({ length: AUTHORS }, (_, i) => {
    const sk = new Uint8Array(32);
    sk[31] = i + 1;
    sk[0] = 7;
    return { sk, pk: getPublicKey(sk) };
  });
  const base = Math.floor(Date.now() / 1000) - EVENTS;
  const t0 = performance.now();
  const events: NostrEvent[] = Array.from({ length: EVENTS }, (_, i) => {
    // nostr-wasm fills in pubkey, id and sig.
    const event: NostrEvent = { kind: 1, created_at: base + i, tags: [['t', `bench${i % 10}`]], content: `bench event ${i} ${'lorem ipsum '.repeat(8)}`, pubkey: '', id: '', sig: '' };
    nw.finalizeEvent(event, keys[i % AUTHORS]!.sk);
    return event;
  });
  const signSeconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ bench: 'relay-sign', events: EVENTS, signSeconds: round(signSeconds) }));

  const rounds: Round[] = [];
  for (let r = 1; r <= ROUNDS; r++) rounds.push(await runRound(r, events, keys));
  const ratios = rounds.map((x) => x.ingestPerSec / x.verifyPerSec);
  console.log(
    JSON.stringify({
      bench: 'relay-summary',
      rounds: ROUNDS,
      ingestEventsPerSec: Math.round(median(rounds.map((x) => x.ingestPerSec))),
      rawVerifyPerSec: Math.round(median(rounds.map((x) => x.verifyPerSec))),
      ingestToVerifyRatio: round(median(ratios)),
      ingestPerRound: rounds.map((x) => Math.round(x.ingestPerSec)),
      verifyPerRound: rounds.map((x) => Math.round(x.verifyPerSec)),
      ratioPerRound: ratios.map(round),
      reqP50Ms: round(median(rounds.map((x) => x.p50))),
      reqP99Ms: round(median(rounds.map((x) => x.p99))),
      reference: 'strfry on 2 cores: ~8000 events/s, REQ p50 < 2 ms; target >= 4000 events/s',
    }),
  );
}

/** One round: the one-core baseline, then a fresh relay child ingesting every event, then the REQs. */
async function runRound(r: number, events: NostrEvent[], keys: Array<{ pk: string }>): Promise<Round> {
  const t1 = performance.now();
  for (const e of events) if (!verifyEvent(e)) throw new Error('bench event failed verification');
  const verifyPerSec = EVENTS / ((performance.now() - t1) / 1000);
  console.log(JSON.stringify({ bench: 'relay-verify', round: r, engine: cryptoEngine(), events: EVENTS, verifyPerSec: Math.round(verifyPerSec) }));

  const dir = mkdtempSync(join(tmpdir(), 'bench-relay-'));
  const child = spawn(process.execPath, [...NODE_FLAGS, fileURLToPath(import.meta.url), '--serve', join(dir, 'relay.db')], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const { url, verifyThreads, verifyEngine } = await new Promise<{ url: string; verifyThreads: number; verifyEngine: string }>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as { url: string; verifyThreads: number; verifyEngine: string }));
      child.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
    });
    const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, () => open(url)));

    const t2 = performance.now();
    const counts = await Promise.all(sockets.map((ws, c) => ingest(ws, events.filter((_, i) => i % CONNECTIONS === c))));
    const ingestSeconds = (performance.now() - t2) / 1000;
    const accepted = counts.reduce((a, b) => a + b.accepted, 0);
    const oks = counts.reduce((a, b) => a + b.oks, 0);
    const ingestPerSec = accepted / ingestSeconds;
    console.log(
      JSON.stringify({
        bench: 'relay-ingest',
        round: r,
        events: EVENTS,
        connections: CONNECTIONS,
        oks,
        accepted,
        seconds: round(ingestSeconds),
        eventsPerSec: Math.round(ingestPerSec),
        relayVerifyThreads: verifyThreads,
        relayVerifyEngine: verifyEngine,
        cores: availableParallelism(),
        ratioToRawVerify: round(ingestPerSec / verifyPerSec),
      }),
    );

    const latencies: number[] = [];
    let returned = 0;
    for (let i = 0; i < REQS; i++) {
      const author = keys[i % AUTHORS]!.pk;
      const start = performance.now();
      returned += await req(sockets[0]!, `q${i}`, { authors: [author], kinds: [1], limit: 50 });
      latencies.push(performance.now() - start);
    }
    latencies.sort((a, b) => a - b);
    const pct = (p: number): number => round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!);
    console.log(JSON.stringify({ bench: 'relay-req', round: r, reqs: REQS, filter: 'authors+kinds, limit 50', meanEvents: round(returned / REQS), p50Ms: pct(0.5), p99Ms: pct(0.99) }));
    for (const ws of sockets) ws.close();
    return { verifyPerSec, ingestPerSec, p50: pct(0.5), p99: pct(0.99) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Sends every event and resolves when each has its OK. */
function ingest(ws: WebSocket, batch: NostrEvent[]): Promise<{ oks: number; accepted: number }> {
  return new Promise((resolve) => {
    let oks = 0;
    let accepted = 0;
    const onMessage = (data: Buffer): void => {
      const msg = JSON.parse(data.toString()) as unknown[];
      if (msg[0] !== 'OK') return;
      oks++;
      if (msg[2] === true) accepted++;
      if (oks === batch.length) {
        ws.off('message', onMessage);
        resolve({ oks, accepted });
      }
    };
    ws.on('message', onMessage);
    for (const e of batch) ws.send(`["EVENT",${JSON.stringify(e)}]`);
  });
}

/** One REQ until EOSE; returns how many events came back. */
function req(ws: WebSocket, id: string, filter: object): Promise<number> {
  return new Promise((resolve) => {
    let n = 0;
    const onMessage = (data: Buffer): void => {
      const text = data.toString();
      if (!text.includes(`"${id}"`)) return;
      const msg = JSON.parse(text) as unknown[];
      if (msg[1] !== id) return;
      if (msg[0] === 'EVENT') n++;
      else if (msg[0] === 'EOSE' || msg[0] === 'CLOSED') {
        ws.off('message', onMessage);
        ws.send(JSON.stringify(['CLOSE', id]));
        resolve(n);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify(['REQ', id, filter]));
  });
}
