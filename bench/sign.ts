/**
 * bench/sign: CPU time per event signature, each way the project can sign, on a gift-wrap-sized
 * event (1.5 KB of content; the id hash is part of every case).
 * Baseline in the same run: nostr-wasm's `finalizeEvent` (the signing path before bench/sign
 * existed), which derives the keypair, and so the public key, on every signature. Cases:
 * `signer` (SecretKeySigner.signEvent: public key kept, tiny-secp256k1 `signSchnorr`), `oneOff`
 * (`finalizeEvent` with tiny-secp256k1: a gift wrap's fresh key, public key derived), `noble` (the
 * pure-JS fallback, fewer iterations). Rounds are interleaved and the median per case is printed, as
 * CPU time (the machine is shared: CPU time moves less with its load). Prints JSON lines.
 * Run: `npm run build && node dist/bench/sign.js`.
 */
import { randomBytes } from 'node:crypto';
import { initNostrWasm } from 'nostr-wasm';
import { schnorr } from '@noble/curves/secp256k1.js';
import { finalizeEvent, loadFastCrypto, signingEngine, verifyEvent } from '../src/protocol/crypto.js';
import { getEventHash, type EventTemplate, type NostrEvent } from '../src/protocol/event.js';
import { bytesToHex, hexToBytes } from '../src/protocol/hex.js';
import { SecretKeySigner } from '../src/signer/secret-key-signer.js';

const SIGNATURES = Number(process.env.BENCH_SIGNATURES ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

await loadFastCrypto();
const nostrWasm = await initNostrWasm();
const secretKey = randomBytes(32);
const signer = new SecretKeySigner(Uint8Array.from(secretKey));
const content = randomBytes(1125).toString('base64');
const template = (): EventTemplate => ({ kind: 1059, created_at: 1700000000, tags: [['p', signer.getPublicKey()]], content });

let last: NostrEvent | undefined;
const cases: Record<string, { count: number; sign: () => void }> = {
  baseline: {
    count: SIGNATURES,
    sign: () => {
      const event = { ...template(), pubkey: '', id: '', sig: '' };
      nostrWasm.finalizeEvent(event, secretKey);
      last = event;
    },
  },
  signer: { count: SIGNATURES, sign: () => void (last = signer.signEvent(template())) },
  oneOff: { count: SIGNATURES, sign: () => void (last = finalizeEvent(template(), secretKey)) },
  noble: {
    count: Math.max(1, Math.floor(SIGNATURES / 10)),
    sign: () => {
      // What crypto.ts does without wasm (called directly: switching engines per signature would reload them).
      const event = { ...template(), pubkey: bytesToHex(schnorr.getPublicKey(secretKey)), id: '', sig: '' };
      event.id = getEventHash(event);
      event.sig = bytesToHex(schnorr.sign(hexToBytes(event.id), secretKey));
      last = event;
    },
  },
};

const samples = new Map<string, number[]>(Object.keys(cases).map((name) => [name, []]));
for (let round = 0; round <= ROUNDS; round++) {
  for (const [name, c] of Object.entries(cases)) {
    const start = process.cpuUsage();
    for (let i = 0; i < c.count; i++) c.sign();
    const usage = process.cpuUsage(start);
    if (!last || !verifyEvent(last)) throw new Error(`${name}: the signature does not verify`);
    if (round > 0) samples.get(name)!.push((usage.user + usage.system) / c.count); // round 0 warms up
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round2 = (n: number): number => Math.round(n * 100) / 100;
const baselineUs = median(samples.get('baseline')!);
for (const [name, xs] of samples) {
  const us = median(xs);
  console.log(JSON.stringify({ bench: 'sign', case: name, engine: name === 'baseline' ? 'nostr-wasm' : name === 'noble' ? 'noble' : signingEngine(), signatures: cases[name]!.count * ROUNDS, cpuUsPerSignature: round2(us), overBaseline: round2(us / baselineUs) }));
}
