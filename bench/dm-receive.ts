/**
 * bench/dm-receive: NIP-17 DMs received and unwrapped per second through the whole receive path
 * (relay-dev on loopback → pool → verify → inbox subscription → unwrap → processed table → sink),
 * against the pure crypto cost of the same unwraps in the same run. Prints JSON lines.
 * Run: `npm run build && node dist/bench/dm-receive.js` (BENCH_DMS=N to change the count).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay } from '../relay-dev/index.js';
import { cryptoEngine, loadFastCrypto } from '../src/protocol/crypto.js';
import { hexToBytes } from '../src/protocol/hex.js';
import { unwrapGift } from '../src/protocol/nip59.js';
import { WsRelayPool } from '../src/relay/relay-pool.js';
import { buildDirectMessage } from '../src/relay/reply.js';
import { InboxSubscriptions } from '../src/relay/subscription-manager.js';
import { SecretKeySigner } from '../src/signer/secret-key-signer.js';
import { openStorage } from '../src/storage/open.js';

const COUNT = Number(process.env.BENCH_DMS ?? 500);
await loadFastCrypto();
const agent = new SecretKeySigner(hexToBytes('51'.repeat(32)));
const senders = Array.from({ length: 10 }, (_, i) => new SecretKeySigner(hexToBytes((0x60 + i).toString(16).repeat(32))));
const wraps = Array.from({ length: COUNT }, (_, i) => buildDirectMessage(senders[i % senders.length]!, agent.getPublicKey(), `message ${i}`)[0]!.event);

const dir = mkdtempSync(join(tmpdir(), 'bench-dm-'));
const relay = await startRelay({ limits: { maxLimit: COUNT * 2, eventsPerSecond: 0 } });
const sender = new WsRelayPool({ relays: [relay.url], pingIntervalMs: 0 });
await sender.connection(relay.url)!.waitConnected();
for (const w of wraps) await sender.publish(w);
await sender.close();

// Whole path: a fresh receiver catching up on COUNT stored wraps.
const storage = await openStorage(`sqlite:${join(dir, 'agents.db')}`);
const pool = new WsRelayPool({ pingIntervalMs: 0 });
let delivered = 0;
let resolveDone: () => void = () => {};
const done = new Promise<void>((r) => (resolveDone = r));
const inbox = new InboxSubscriptions({
  pool,
  storage,
  relays: [relay.url],
  relayLimits: async () => ({ max_limit: COUNT * 2 }),
  sink: async () => {
    if (++delivered === COUNT) resolveDone();
  },
});
inbox.addAgent(agent);
const t0 = performance.now();
await inbox.start();
await done;
const pipelineMs = performance.now() - t0;
await inbox.stop();
await pool.close();
await storage.close();

// Baseline: the same unwraps (two NIP-44 decrypts + one seal verify each), nothing else.
const t1 = performance.now();
for (const w of wraps) if (!unwrapGift(w, agent).ok) throw new Error('unwrap failed');
const cryptoMs = performance.now() - t1;

await relay.close();
rmSync(dir, { recursive: true, force: true });
const round = (n: number): number => Math.round(n * 100) / 100;
const perSecond = (ms: number): number => Math.round((COUNT * 1000) / ms);
console.log(JSON.stringify({ bench: 'dm-receive', engine: cryptoEngine(), dms: COUNT, ms: round(pipelineMs), perSecond: perSecond(pipelineMs) }));
console.log(JSON.stringify({ bench: 'dm-receive-crypto-baseline', dms: COUNT, ms: round(cryptoMs), perSecond: perSecond(cryptoMs), ratio: round(pipelineMs / cryptoMs) }));
