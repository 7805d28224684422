/** Real keys from the NIP-06 vector mnemonic and echo-agent tick records for the trajectory tests. */
import { deriveMany, mnemonicToSeed } from '../../src/protocol/nip06.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { emptyChain } from '../../src/trajectory/chain.js';
import { trajectoryEvents, type TrajectoryOptions } from '../../src/trajectory/publish.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import type { TickRecord, TrajectoryChain } from '../../src/trajectory/types.js';

export const MNEMONIC = 'leader monkey parrot ring guide accident before fence cannon height naive bean';
const [ownerKey, agentKey, peerKey, strangerKey] = deriveMany(mnemonicToSeed(MNEMONIC), [0, 1, 2, 3]);

/** Owner = account 0, agent = account 1, a DM peer = account 2, a stranger = account 3. */
export const keys = { owner: ownerKey!, agent: agentKey!, peer: peerKey!, stranger: strangerKey! };
export const owner = new SecretKeySigner(keys.owner.secretKey);
export const agent = new SecretKeySigner(keys.agent.secretKey);
export const stranger = new SecretKeySigner(keys.stranger.secretKey);

/** 2024-05-01T12:00:00Z */
export const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

/** The record an echo agent makes for a DM: perceive, think, reply, count. */
export function echoRecord(seq: number, at = T0 + seq * 60_000, text = `hello number ${seq}`): TickRecord {
  const dmId = (seq.toString(16) + 'd'.repeat(64)).slice(0, 64);
  const replyId = (seq.toString(16) + 'e'.repeat(64)).slice(0, 64);
  return {
    agentPubkey: keys.agent.publicKey,
    seq,
    startedAt: at,
    endedAt: at + 40,
    trigger: { type: 'dm', eventId: dmId, from: keys.peer.publicKey, text, at: at - 5 },
    steps: [
      { type: 'perceive', at, ms: 2, name: 'nip17' },
      { type: 'think', at: at + 2, ms: 10, name: 'rules', detail: { rule: 'echo' } },
      { type: 'message', at: at + 12, ms: 20, name: keys.peer.publicKey, detail: { protocol: 'nip17', to: keys.peer.publicKey, text: `echo: ${text}` } },
      { type: 'state', at: at + 32, ms: 8, name: 'kv', detail: { key: 'count', value: seq } },
    ],
    tokens: { input: 0, output: 0 },
    budget: { computeMs: 40, llmCalls: 0, tokens: 0 },
    outcome: 'ok',
    sentEventIds: [replyId],
  };
}

/** Runs `count` ticks through trajectoryEvents; returns every event (ticks and each session version) and the chain. */
export function runTicks(
  count: number,
  options: Partial<TrajectoryOptions> = {},
  record: (seq: number) => TickRecord = (seq) => echoRecord(seq),
): { ticks: NostrEvent[]; sessions: NostrEvent[]; chain: TrajectoryChain } {
  let chain = emptyChain();
  const ticks: NostrEvent[] = [];
  const sessions: NostrEvent[] = [];
  for (let seq = 1; seq <= count; seq++) {
    const out = trajectoryEvents(record(seq), chain, { signer: agent, ownerPubkey: keys.owner.publicKey, ...options });
    // The runtime stores the chain as JSON between ticks.
    chain = JSON.parse(JSON.stringify(out.chain)) as TrajectoryChain;
    ticks.push(out.tick);
    sessions.push(out.session);
  }
  return { ticks, sessions, chain };
}

/** What a relay keeps: every tick, and the newest session version per day. */
export function relayView(ticks: NostrEvent[], sessions: NostrEvent[]): NostrEvent[] {
  const newest = new Map<string, NostrEvent>();
  for (const s of sessions) {
    const d = s.tags.find((t) => t[0] === 'd')?.[1] ?? '';
    const seen = newest.get(d);
    if (!seen || s.created_at > seen.created_at) newest.set(d, s);
  }
  return [...ticks, ...newest.values()];
}
