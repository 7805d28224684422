/**
 * The split-brain rule. Before a daemon runs an agent it reads the agent's newest manifest and
 * trajectory tick from its relays. Another machine's snapshot that this home does not know (a
 * higher generation, or the same generation by another writer), or a trajectory tick past this
 * home's chain head, means the agent may be running elsewhere: the daemon warns and holds it until
 * the owner runs `agent takeover <name>`, or the other side stops and says so with a final
 * snapshot, which this daemon then imports before it runs the agent.
 */
import { tagValue, type NostrEvent } from '../protocol/event.js';
import type { Filter } from '../protocol/filter.js';
import { Kind } from '../protocol/kinds.js';
import type { Signer } from '../signer/types.js';
import { MANIFEST_D, SNAPSHOT_KIND, type Manifest } from './format.js';
import { openManifest, type SnapshotReader } from './read.js';
import type { AgentSnapshotState } from './state.js';

/** What the rule weighs for one agent. */
export interface SplitBrainInput {
  /** This home's daemon id. */
  ours: string;
  /** What this home knows (undefined: it never wrote, restored or took over a snapshot of the agent). */
  local: AgentSnapshotState | undefined;
  /** This home's trajectory head seq (0: no tick). */
  localSeq: number;
  /** The newest manifest on the relays. */
  remote: Manifest | undefined;
  /** The highest trajectory seq on the relays. */
  remoteSeq: number | undefined;
}

/** Run it; adopt the other machine's final snapshot first; or hold it (with why). */
export type SplitBrainVerdict = { action: 'run' } | { action: 'adopt'; reason: string } | { action: 'hold'; reason: string };

/** The rule itself (pure). */
export function splitBrainVerdict(input: SplitBrainInput): SplitBrainVerdict {
  const { ours, local, remote } = input;
  if (remote && remote.daemon !== ours) {
    const unknown = !local || remote.generation > local.generation || (remote.generation === local.generation && remote.daemon !== local.daemon);
    if (unknown) {
      const what = `another machine (daemon ${remote.daemon}) wrote snapshot generation ${remote.generation} at ${new Date(remote.createdAt).toISOString()}`;
      if (remote.final) return { action: 'adopt', reason: `${what} when it stopped; its state is imported first` };
      return { action: 'hold', reason: `${what} and may still run it (this home knows generation ${local?.generation ?? 0})` };
    }
  }
  const remoteSeq = input.remoteSeq ?? 0;
  const accepted = local?.acceptedSeq ?? 0;
  if (remoteSeq > input.localSeq && remoteSeq > accepted) {
    return { action: 'hold', reason: `its trajectory on the relays reaches tick ${remoteSeq}, past this home's tick ${input.localSeq}: another machine ran it` };
  }
  return { action: 'run' };
}

/** What the relays hold of one agent: its newest manifest and its highest trajectory seq. */
export interface RemoteHead {
  manifest: Manifest | undefined;
  seq: number | undefined;
  /** Every manifest on the relays is the event this home wrote last (`manifest` is then not decrypted: it is this home's own). */
  known?: boolean;
}

/** Agents per REQ: one manifest filter for all of them and a tick filter each stay within relays' filter limits. */
const HEADS_PER_REQ = 10;
/** REQs in flight at once: a daemon with thousands of agents does not wait for one round trip per ten agents. */
const HEADS_CONCURRENCY = 8;

/**
 * One agent whose head is read; `knownManifestIds` are the manifest events this home wrote last (the
 * last and the one before: a final snapshot may not have left before the stop), if any;
 * `seqAtMost` is the trajectory seq up to which a tick changes nothing (the higher of this home's
 * chain head and its accepted seq: the rule holds an agent only for a tick past both).
 */
export interface HeadQuery {
  signer: Signer;
  name: string;
  knownManifestIds?: readonly string[];
  seqAtMost?: number;
}

/**
 * Which answers need their signature checked: not this home's own last manifest (its id, which the
 * reader still checks against the content, is the event this home signed) and not a tick at or
 * below `seqAtMost`. A forged event of either kind weighs the same as a relay withholding events,
 * which it can always do; everything that could hold an agent or be imported is checked. With
 * thousands of dormant agents this is most of the start's Schnorr work (docs/performance.md).
 */
function signatureNeededFor(agents: readonly HeadQuery[]): (event: NostrEvent) => boolean {
  const byPubkey = new Map(agents.map((a) => [a.signer.getPublicKey(), a]));
  return (event) => {
    const agent = byPubkey.get(event.pubkey);
    if (!agent) return true;
    if (event.kind === SNAPSHOT_KIND) return !agent.knownManifestIds?.includes(event.id);
    if (event.kind !== Kind.TrajectoryTick || agent.seqAtMost === undefined) return true;
    const seq = Number(tagValue(event, 'seq'));
    return !(Number.isSafeInteger(seq) && seq > 0 && seq <= agent.seqAtMost);
  };
}

/**
 * The heads of several agents on one set of relays, by public key (one REQ per 10 agents, a few in
 * flight). A manifest is decrypted (which needs the agent's secret key) only when the relays hold one
 * other than the event this home wrote last.
 */
export async function remoteHeads(reader: SnapshotReader, agents: readonly HeadQuery[], options: { signal?: AbortSignal } = {}): Promise<Map<string, RemoteHead>> {
  const out = new Map<string, RemoteHead>();
  const batches: HeadQuery[][] = [];
  for (let i = 0; i < agents.length; i += HEADS_PER_REQ) batches.push(agents.slice(i, i + HEADS_PER_REQ));
  const readBatch = async (batch: HeadQuery[]): Promise<void> => {
    const pubkeys = batch.map((a) => a.signer.getPublicKey());
    const filters: Filter[] = [
      { kinds: [SNAPSHOT_KIND], authors: pubkeys, '#d': [MANIFEST_D] },
      ...pubkeys.map((pubkey): Filter => ({ kinds: [Kind.TrajectoryTick], authors: [pubkey], limit: 3 })),
    ];
    const events = await reader.fetch(filters, { ...options, signatureNeeded: signatureNeededFor(batch) });
    for (const agent of batch) {
      const pubkey = agent.signer.getPublicKey();
      const seq = highestSeq(events, pubkey);
      const manifests = events.filter((e) => e.pubkey === pubkey && e.kind === SNAPSHOT_KIND && tagValue(e, 'd') === MANIFEST_D);
      if (agent.knownManifestIds?.length && manifests.length > 0 && manifests.every((e) => agent.knownManifestIds!.includes(e.id))) {
        out.set(pubkey, { manifest: undefined, seq, known: true });
        continue;
      }
      let manifest: Manifest | undefined;
      try {
        manifest = openManifest(events, agent.signer, agent.name, { ownOnly: true })?.manifest;
      } catch {
        // A manifest nobody can read is no claim to the agent (the restore path reports it by name).
        manifest = undefined;
      }
      out.set(pubkey, { manifest, seq });
    }
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < batches.length) await readBatch(batches[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(HEADS_CONCURRENCY, batches.length) }, worker));
  return out;
}

/** The head of one agent. */
export async function remoteHead(reader: SnapshotReader, agent: Signer, name: string, options: { signal?: AbortSignal } = {}): Promise<RemoteHead> {
  return (await remoteHeads(reader, [{ signer: agent, name }], options)).get(agent.getPublicKey())!;
}

function highestSeq(events: readonly NostrEvent[], pubkey: string): number | undefined {
  let best: number | undefined;
  for (const e of events) {
    if (e.pubkey !== pubkey || e.kind !== Kind.TrajectoryTick) continue;
    const seq = Number(tagValue(e, 'seq'));
    if (Number.isSafeInteger(seq) && seq > 0 && (best === undefined || seq > best)) best = seq;
  }
  return best;
}
