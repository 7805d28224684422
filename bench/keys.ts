/**
 * bench/keys: derive the keys of 1,000 agents with the BIP-39 seed computed once.
 * Baselines in the same run: deriving each agent from the master seed one by one (no shared
 * `m/44'/1237'` node), and the crypto floor: BIP-32 along m/44'/1237'/a'/0/0 needs three
 * secp256k1 base-point multiplications per account (the public keys of a', a'/0 and a'/0/0),
 * so 3,000 bare multiplications with the same engine (libsecp256k1 in wasm once loaded) are timed too.
 * Wall times and CPU times (the machine is shared: CPU time moves less with its load). Prints JSON lines.
 * Run: `npm run build && node dist/bench/keys.js`.
 */
import { compressedPublicKey, loadFastCrypto, cryptoEngine } from '../src/protocol/crypto.js';
import { deriveFromSeed, deriveMany, mnemonicToSeed } from '../src/protocol/nip06.js';

const MNEMONIC = 'leader monkey parrot ring guide accident before fence cannon height naive bean';
const AGENTS = Number(process.env.BENCH_AGENTS ?? 1000);

await loadFastCrypto();
const t0 = performance.now();
const seed = mnemonicToSeed(MNEMONIC);
const seedMs = performance.now() - t0;

const accounts = Array.from({ length: AGENTS }, (_, i) => i + 1);
const c1 = process.cpuUsage();
const t1 = performance.now();
const keys = deriveMany(seed, accounts);
const batchMs = performance.now() - t1;
const batchCpuMs = cpuMs(process.cpuUsage(c1));

const t2 = performance.now();
for (const account of accounts) deriveFromSeed(seed, account);
const baselineMs = performance.now() - t2;

const c3 = process.cpuUsage();
const t3 = performance.now();
for (const k of keys.slice(0, AGENTS)) for (let i = 0; i < 3; i++) compressedPublicKey(k.secretKey);
const floorMs = performance.now() - t3;
const floorCpuMs = cpuMs(process.cpuUsage(c3));

if (keys.length !== AGENTS || new Set(keys.map((k) => k.publicKey)).size !== AGENTS) throw new Error('derivation produced duplicate keys');
function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}
const round = (n: number): number => Math.round(n * 100) / 100;
console.log(JSON.stringify({ bench: 'keys', engine: cryptoEngine(), agents: AGENTS, seedMs: round(seedMs), deriveMs: round(batchMs), deriveCpuMs: round(batchCpuMs), totalMs: round(seedMs + batchMs), perAgentUs: round((batchMs * 1000) / AGENTS) }));
console.log(JSON.stringify({ bench: 'keys-baseline', agents: AGENTS, deriveOneByOneMs: round(baselineMs), speedup: round(baselineMs / batchMs) }));
console.log(JSON.stringify({ bench: 'keys-floor', multiplications: AGENTS * 3, floorMs: round(floorMs), floorCpuMs: round(floorCpuMs), deriveOverFloor: round(batchMs / floorMs), deriveOverFloorCpu: round(batchCpuMs / floorCpuMs), targetMs: 1000, withinTarget: seedMs + batchMs < 1000 }));
