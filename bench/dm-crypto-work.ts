/**
 * The crypto of one DM answered, nothing else: what bench/dm-throughput's baseline runs on every
 * core (dm-crypto-worker.ts). The sender builds its two wraps (to the agent and its own copy), the
 * relay verifies both, the agent verifies the wrap it reads and unwraps it (seal verified inside),
 * builds its two reply wraps, the relay verifies both, and the sender verifies the reply wrap and
 * unwraps it. Long-lived signers, so seal conversation keys are cached per peer as in the daemon.
 */
import { verifyEvent } from '../src/protocol/crypto.js';
import type { NostrEvent } from '../src/protocol/event.js';
import { unwrapGift } from '../src/protocol/nip59.js';
import { buildDirectMessage } from '../src/relay/reply.js';
import type { SecretKeySigner } from '../src/signer/secret-key-signer.js';
import { trajectoryEvents } from '../src/trajectory/publish.js';
import type { TickRecord, TrajectoryChain } from '../src/trajectory/types.js';

/** Hooks for bench/dm-roundtrip's floor: `mark` after each step (for per-step times), `alongReply` for what the agent signs with its reply. */
export interface DmWorkHooks {
  mark?: () => void;
  /** Events the agent signs in the same tick as its reply (its trajectory); the relay verifies them with the reply wraps. */
  alongReply?: () => NostrEvent[];
}

/**
 * The trajectory of an echo tick as the daemon publishes it with the reply: the tick content
 * (redacted, canonical JSON) NIP-44-encrypted to the owner and signed, and the session event signed.
 * `record` is a real echo tick record from a daemon's database, re-addressed to `agent`; `chain` is a
 * stand-in previous link (its id only goes into a tag).
 */
export function echoTrajectory(record: TickRecord, chain: TrajectoryChain, agent: SecretKeySigner, ownerPubkey: string): NostrEvent[] {
  const trajectory = trajectoryEvents({ ...record, agentPubkey: agent.getPublicKey(), endedAt: Date.now() }, chain, { signer: agent, ownerPubkey, visibility: 'private' });
  return [trajectory.tick, trajectory.session];
}

export function answerOneDm(sender: SecretKeySigner, agent: SecretKeySigner, text: string, hooks: DmWorkHooks = {}): void {
  const mark = hooks.mark ?? ((): void => {});
  const out = buildDirectMessage(sender, agent.getPublicKey(), text);
  mark();
  for (const o of out) if (!verifyEvent(o.event)) throw new Error('sender wrap failed the relay check');
  mark();
  const dm = out.find((o) => o.target.type === 'dm')!.event;
  if (!verifyEvent(dm)) throw new Error('sender wrap failed the agent check');
  const received = unwrapGift(dm, agent);
  if (!received.ok) throw new Error(`agent could not unwrap: ${received.reason}`);
  mark();
  const reply = buildDirectMessage(agent, sender.getPublicKey(), `echo: ${text}`, { replyTo: { id: received.rumor.id } });
  mark();
  const along = hooks.alongReply ? hooks.alongReply() : [];
  if (hooks.alongReply) mark();
  for (const event of [...reply.map((o) => o.event), ...along]) if (!verifyEvent(event)) throw new Error('an agent event failed the relay check');
  mark();
  const back = reply.find((o) => o.target.type === 'dm')!.event;
  if (!verifyEvent(back)) throw new Error('reply wrap failed the sender check');
  const opened = unwrapGift(back, sender);
  if (!opened.ok) throw new Error(`sender could not unwrap: ${opened.reason}`);
  mark();
}
