/**
 * A worker thread of bench/dm-throughput's crypto baseline: answers its share of the DMs
 * (dm-crypto-work.ts) as fast as one core allows, after a short warm-up, and posts the busy time.
 * Keys arrive as hex in workerData (in-process only; never printed).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadFastCrypto } from '../src/protocol/crypto.js';
import { hexToBytes } from '../src/protocol/hex.js';
import { SecretKeySigner } from '../src/signer/secret-key-signer.js';
import type { TickRecord, TrajectoryChain } from '../src/trajectory/types.js';
import { answerOneDm, echoTrajectory, type DmWorkHooks } from './dm-crypto-work.js';

/** What the main thread sends: secret keys by index and the DMs as [sender, agent] index pairs. */
export interface CryptoWorkerData {
  senderKeys: string[];
  agentKeys: string[];
  dms: Array<[number, number]>;
  warmup: number;
  /** A real echo tick record and the agents' owner: each reply is signed with its tick's trajectory (tick + session), as the daemon commits them together. */
  trajectory?: { record: TickRecord; ownerPubkey: string };
}

const data = workerData as CryptoWorkerData;
await loadFastCrypto();
const senders = new Map<number, SecretKeySigner>();
const agents = new Map<number, SecretKeySigner>();
const signerOf = (cache: Map<number, SecretKeySigner>, keys: string[], i: number): SecretKeySigner => {
  let s = cache.get(i);
  if (!s) cache.set(i, (s = new SecretKeySigner(hexToBytes(keys[i]!))));
  return s;
};
// Warm-up on throwaway signers (wasm and JIT), so the measured DMs find the same cold key caches the daemon does.
const a = new SecretKeySigner(hexToBytes('71'.repeat(32)));
const b = new SecretKeySigner(hexToBytes('72'.repeat(32)));
const chain: TrajectoryChain | undefined = data.trajectory && { lastId: '7a'.repeat(32), lastSeq: data.trajectory.record.seq - 1, session: null };
const hooks = (agent: SecretKeySigner): DmWorkHooks => (data.trajectory && chain ? { alongReply: () => echoTrajectory(data.trajectory!.record, chain, agent, data.trajectory!.ownerPubkey) } : {});
for (let i = 0; i < data.warmup; i++) answerOneDm(a, b, `warm-up ${i}`, hooks(b));
// Signers are built before the clock starts: the daemon and the senders hold theirs before the first DM.
for (const [s, g] of data.dms) {
  signerOf(senders, data.senderKeys, s);
  signerOf(agents, data.agentKeys, g);
}
parentPort!.postMessage({ ready: true });
parentPort!.once('message', () => {
  const t0 = performance.now();
  for (const [i, [s, g]] of data.dms.entries()) {
    const agent = signerOf(agents, data.agentKeys, g);
    answerOneDm(signerOf(senders, data.senderKeys, s), agent, `dm ${i}`, hooks(agent));
  }
  parentPort!.postMessage({ done: true, ms: performance.now() - t0, dms: data.dms.length });
});
