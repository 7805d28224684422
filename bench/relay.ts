/**
 * bench/relay: relay-dev ingest and query speed, each against a floor measured in the same run (the
 * machine's load drifts between minutes, so each round gets its own baselines and the summary reports
 * medians). The relay runs in a child process (its own event loop, its default worker pool, a WAL file
 * in a temp dir); clients run here. Prints JSON lines.
 * - Ingest floor: what signature verification allows on the relay's cores, i.e. the same events checked
 *   by the relay's own Verifier with as many worker threads as the relay has, in this process, right
 *   before the relay starts (goal: ingest >= 0.8x). The one-core rate is printed too.
 * - REQ floor: the same author+kind queries run in this process against the relay's database file
 *   (EventStore.queryRaw, the relay's own code) and serialized into the frames the relay sends,
 *   interleaved query by query with the WebSocket REQs so both see the same load (goal: p50 <= 1.5x).
 *   A REQ's time runs from its send to its EOSE (the CLOSE the client sends next is not counted).
 * - Transport: the same client sends the same REQ to a bare ws server in the relay's process that
 *   answers with the bytes of the relay's answer to that filter, prebuilt (one socket write, no query,
 *   no relay code on the path): what the round trip costs with no relay work at all, same run.
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
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { defaultVerifyThreads, EventStore, startRelay, Verifier, type QueryScope } from '../relay-dev/index.js';
import { serializeForStorage } from '../relay-dev/event-meta.js';
import { encodeTextFrames } from '../relay-dev/frames.js';
import { cpuSecondsOf } from './child-processes.js';
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
  const echo = await serveTransport(running.relay.store);
  console.log(JSON.stringify({ url: running.url, echoUrl: echo.url, verifyThreads: running.relay.verifier.readyWorkers, verifyEngine: inline ? 'inline' : 'nostr-wasm workers' }));
  await new Promise((resolve) => process.once('SIGTERM', resolve));
  await echo.close();
  await running.close();
}

/**
 * The transport alone: a bare ws server (same library and options as relay-dev's) that answers a REQ
 * with the bytes relay-dev sends for it (its stored events and EOSE as one buffer of frames, one
 * socket write), built the first time that exact REQ text arrives and replayed from then on.
 */
async function serveTransport(store: EventStore): Promise<{ url: string; close(): Promise<void> }> {
  const answers = new Map<string, Buffer>();
  const server = createServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data: Buffer) => {
        const text = data.toString('utf8');
        let answer = answers.get(text);
        if (!answer) {
          const [verb, id, filter] = JSON.parse(text) as [string, string, { authors: string[]; kinds: number[]; limit: number }];
          if (verb !== 'REQ') return;
          const frames = store.queryRaw(filter, readerScope(), filter.limit).map((raw) => `["EVENT",${JSON.stringify(id)},${raw}]`);
          answer = encodeTextFrames([...frames, JSON.stringify(['EOSE', id])]);
          answers.set(text, answer);
        }
        socket.write(answer);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface Round {
  verifyPerSec: number;
  parallelVerifyPerSec: number;
  /** Verification CPU per event over the relay's CPU per event while ingesting. */
  cpuShare: number;
  ingestPerSec: number;
  p50: number;
  p99: number;
  floorP50: number;
  floorP99: number;
  transportP50: number;
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
  const parallelRatios = rounds.map((x) => x.ingestPerSec / x.parallelVerifyPerSec);
  const reqRatios = rounds.map((x) => x.p50 / x.floorP50);
  console.log(
    JSON.stringify({
      bench: 'relay-summary',
      rounds: ROUNDS,
      ingestEventsPerSec: Math.round(median(rounds.map((x) => x.ingestPerSec))),
      parallelVerifyPerSec: Math.round(median(rounds.map((x) => x.parallelVerifyPerSec))),
      ingestToParallelVerifyRatio: round(median(parallelRatios)),
      ingestGoal: '>= 0.8',
      rawVerifyPerSec: Math.round(median(rounds.map((x) => x.verifyPerSec))),
      ingestToVerifyRatio: round(median(ratios)),
      verifyShareOfRelayCpu: round(median(rounds.map((x) => x.cpuShare))),
      ingestPerRound: rounds.map((x) => Math.round(x.ingestPerSec)),
      parallelVerifyPerRound: rounds.map((x) => Math.round(x.parallelVerifyPerSec)),
      parallelRatioPerRound: parallelRatios.map(round),
      reqP50Ms: round(median(rounds.map((x) => x.p50))),
      reqP99Ms: round(median(rounds.map((x) => x.p99))),
      reqFloorP50Ms: round(median(rounds.map((x) => x.floorP50))),
      reqToFloorP50Ratio: round(median(reqRatios)),
      reqGoal: '<= 1.5',
      reqRatioPerRound: reqRatios.map(round),
      transportP50Ms: round(median(rounds.map((x) => x.transportP50))),
      reqToFloorPlusTransportP50Ratio: round(median(rounds.map((x) => x.p50 / (x.floorP50 + x.transportP50)))),
      reference: 'strfry on 2 cores: ~8000 events/s, REQ p50 < 2 ms',
    }),
  );
}

/** One round: the one-core baseline, then a fresh relay child ingesting every event, then the REQs. */
async function runRound(r: number, events: NostrEvent[], keys: Array<{ pk: string }>): Promise<Round> {
  const t1 = performance.now();
  for (const e of events) if (!verifyEvent(e)) throw new Error('bench event failed verification');
  const verifyPerSec = EVENTS / ((performance.now() - t1) / 1000);
  console.log(JSON.stringify({ bench: 'relay-verify', round: r, engine: cryptoEngine(), events: EVENTS, verifyPerSec: Math.round(verifyPerSec) }));
  const threads = process.env.BENCH_VERIFY_THREADS === undefined ? defaultVerifyThreads() : Number(process.env.BENCH_VERIFY_THREADS);
  const { perSec: parallelVerifyPerSec, cpuMsPerEvent: verifyCpuMs } = await parallelVerifyRate(events, threads);
  console.log(JSON.stringify({ bench: 'relay-verify-parallel', round: r, threads, cores: availableParallelism(), events: EVENTS, verifyPerSec: Math.round(parallelVerifyPerSec), cpuMsPerEvent: round(verifyCpuMs * 1000) / 1000 }));

  const dir = mkdtempSync(join(tmpdir(), 'bench-relay-'));
  const child = spawn(process.execPath, [...NODE_FLAGS, fileURLToPath(import.meta.url), '--serve', join(dir, 'relay.db')], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    type Started = { url: string; echoUrl: string; verifyThreads: number; verifyEngine: string };
    const { url, echoUrl, verifyThreads, verifyEngine } = await new Promise<Started>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as Started));
      child.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
    });
    const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, () => open(url)));

    const cpu0 = cpuSecondsOf(child.pid!);
    const t2 = performance.now();
    const counts = await Promise.all(sockets.map((ws, c) => ingest(ws, events.filter((_, i) => i % CONNECTIONS === c))));
    const ingestSeconds = (performance.now() - t2) / 1000;
    const relayCpuMs = ((cpuSecondsOf(child.pid!) - cpu0) * 1000) / EVENTS;
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
        ratioToParallelVerify: round(ingestPerSec / parallelVerifyPerSec),
        relayCpuMsPerEvent: round(relayCpuMs * 1000) / 1000,
        verifyShareOfRelayCpu: round(verifyCpuMs / relayCpuMs),
      }),
    );

    // The floor reads the relay's own file through the relay's own query code, as an unauthenticated
    // reader (the scope the relay gives the bench's connection). Read-only: WAL readers never block the
    // relay's writer, and this handle neither migrates nor checkpoints the live file.
    const store = new EventStore(join(dir, 'relay.db'), { readonly: true });
    const latencies: number[] = [];
    const floor: number[] = [];
    const pings: number[] = [];
    const transport: number[] = [];
    const firstFrame: number[] = [];
    let returned = 0;
    let floorReturned = 0;
    const echo = await open(echoUrl);
    const echoFilter = (i: number): { authors: string[]; kinds: number[]; limit: number } => ({ authors: [keys[i % AUTHORS]!.pk], kinds: [1], limit: 50 });
    try {
      for (let i = 0; i < AUTHORS; i++) await req(echo, 'echo', echoFilter(i)); // every prebuilt answer built once, untimed
      for (let i = 0; i < REQS; i++) {
        const filter = { authors: [keys[i % AUTHORS]!.pk], kinds: [1], limit: 50 };
        const f0 = performance.now();
        floorReturned += inProcessReq(store, `q${i}`, filter);
        floor.push(performance.now() - f0);
        const answer = await req(sockets[0]!, `q${i}`, filter, firstFrame);
        returned += answer.events;
        latencies.push(answer.ms);
        const p0 = performance.now();
        await ping(sockets[0]!);
        pings.push(performance.now() - p0);
        transport.push((await req(echo, 'echo', echoFilter(i))).ms);
      }
    } finally {
      echo.close();
      store.close();
    }
    if (floorReturned !== returned) throw new Error(`in-process queries returned ${floorReturned} events, the relay ${returned}`);
    const p50 = percentile(latencies, 0.5);
    const p99 = percentile(latencies, 0.99);
    const floorP50 = percentile(floor, 0.5);
    const floorP99 = percentile(floor, 0.99);
    console.log(
      JSON.stringify({
        bench: 'relay-req',
        round: r,
        reqs: REQS,
        filter: 'authors+kinds, limit 50',
        meanEvents: round(returned / REQS),
        p50Ms: round(p50),
        p99Ms: round(p99),
        floorP50Ms: round(floorP50),
        floorP99Ms: round(floorP99),
        ratioP50: round(p50 / floorP50),
        wsPingP50Ms: round(percentile(pings, 0.5)),
        ratioP50ToFloorPlusPing: round(p50 / (floorP50 + percentile(pings, 0.5))),
        transportP50Ms: round(percentile(transport, 0.5)),
        ratioP50ToFloorPlusTransport: round(p50 / (floorP50 + percentile(transport, 0.5))),
        firstFrameP50Ms: round(percentile(firstFrame, 0.5)),
      }),
    );
    for (const ws of sockets) ws.close();
    return { verifyPerSec, parallelVerifyPerSec, cpuShare: verifyCpuMs / relayCpuMs, ingestPerSec, p50, p99, floorP50, floorP99, transportP50: percentile(transport, 0.5) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Every event verified by the relay's Verifier with `threads` workers, all at once: events per second, CPU ms per event. */
async function parallelVerifyRate(events: NostrEvent[], threads: number): Promise<{ perSec: number; cpuMsPerEvent: number }> {
  const verifier = new Verifier(threads);
  const deadline = Date.now() + 10_000;
  while (verifier.readyWorkers < threads && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const raws = events.map(serializeForStorage);
  try {
    const cpu0 = cpuSecondsOf(process.pid);
    const t0 = performance.now();
    const results = await Promise.all(events.map((e, i) => verifier.verify(e, raws[i]!)));
    const seconds = (performance.now() - t0) / 1000;
    const cpuMsPerEvent = ((cpuSecondsOf(process.pid) - cpu0) * 1000) / events.length;
    if (results.some((ok) => !ok)) throw new Error('bench event failed parallel verification');
    return { perSec: events.length / seconds, cpuMsPerEvent };
  } finally {
    await verifier.close();
  }
}

/** The scope the relay gives an unauthenticated connection. */
function readerScope(): QueryScope {
  return { now: Math.floor(Date.now() / 1000), privateKinds: [4, 1059], readers: [] };
}

/** The floor of one REQ: the relay's query on the same file and the frames it would send, in this process. */
function inProcessReq(store: EventStore, id: string, filter: { authors: string[]; kinds: number[]; limit: number }): number {
  const prefix = `["EVENT",${JSON.stringify(id)},`;
  const frames: string[] = [];
  for (const raw of store.queryRaw(filter, readerScope(), filter.limit)) frames.push(`${prefix}${raw}]`);
  frames.push(JSON.stringify(['EOSE', id]));
  return frames.length - 1;
}

/** A WebSocket ping answered by the relay's ws library: the transport's own round trip. */
function ping(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    ws.once('pong', () => resolve());
    ws.ping();
  });
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

/**
 * One REQ until EOSE; returns how many events came back and the milliseconds from the send to the
 * EOSE (the CLOSE sent after it is outside that time). The client only reads each frame's head (a
 * subscriber that parses every event would time its own JSON.parse, not the relay).
 */
function req(ws: WebSocket, id: string, filter: object, firstFrameMs?: number[]): Promise<{ events: number; ms: number }> {
  return new Promise((resolve) => {
    let n = 0;
    const eventHead = Buffer.from(`["EVENT",${JSON.stringify(id)},`);
    const sent = performance.now();
    const onMessage = (data: Buffer): void => {
      if (n === 0) firstFrameMs?.push(performance.now() - sent);
      if (data.subarray(0, eventHead.length).equals(eventHead)) {
        n++;
        return;
      }
      const text = data.toString();
      if (!text.includes(`"${id}"`)) return;
      const msg = JSON.parse(text) as unknown[];
      if (msg[1] !== id) return;
      if (msg[0] === 'EVENT') n++;
      else if (msg[0] === 'EOSE' || msg[0] === 'CLOSED') {
        const ms = performance.now() - sent;
        ws.off('message', onMessage);
        ws.send(JSON.stringify(['CLOSE', id]));
        resolve({ events: n, ms });
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify(['REQ', id, filter]));
  });
}
