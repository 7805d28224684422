/**
 * The daemon's side of the split-brain rule (split-brain.ts): before it runs its agents it reads
 * each one's head on the relays, imports a final snapshot another machine left for it, and holds
 * (does not run) any agent another machine may still be running, with a warning that says how to
 * take it over. Also `agent takeover`: accept what is on the relays and run the agent here.
 */
import type { Signer } from '../signer/types.js';
import type { Logger } from '../util/logger.js';
import { importAgentSnapshot, type RestoreTarget } from './import.js';
import { readSnapshot, type SnapshotReader } from './read.js';
import { recordRestored } from './restore.js';
import { remoteHead, remoteHeads, splitBrainVerdict, type RemoteHead, type SplitBrainVerdict } from './split-brain.js';
import type { AgentSnapshotState, SnapshotStateFile } from './state.js';

/** What the guard needs of storage. */
export interface GuardStorage {
  readonly chainHeads: { get(agentIndex: number): unknown };
  transaction<T>(fn: (tx: RestoreTarget) => Promise<T>): Promise<T>;
}

/** One agent the daemon is about to run. */
export interface GuardedAgent {
  index: number;
  name: string;
  signer: Signer;
  reader: SnapshotReader;
}

async function localSeq(storage: GuardStorage, index: number): Promise<number> {
  const chain = (await storage.chainHeads.get(index)) as { lastSeq?: unknown } | undefined;
  return typeof chain?.lastSeq === 'number' ? chain.lastSeq : 0;
}

/** Imports the newest snapshot on the relays for one agent (replacing the local copy) and records it. */
async function adopt(storage: GuardStorage, state: SnapshotStateFile, agent: GuardedAgent, now: number): Promise<void> {
  const read = await readSnapshot(agent.reader, agent.signer, agent.name);
  await storage.transaction((tx) => importAgentSnapshot(tx, read.snapshot, { now, replace: true }));
  recordRestored(state, read);
}

/**
 * Checks every agent; resolves with the indices to hold. An agent whose head cannot be read (no
 * relay answers) runs: a machine that cannot reach the relays cannot tell, and holding every agent
 * whenever a relay is down would be worse.
 */
export async function guardAgents(options: { storage: GuardStorage; state: SnapshotStateFile; agents: GuardedAgent[]; logger: Logger; now?: () => number; signal?: AbortSignal }): Promise<Set<number>> {
  const { storage, state, logger } = options;
  const held = new Set<number>();
  // One batched read per set of relays (agents sharing a reader share its REQs).
  const groups = new Map<SnapshotReader, GuardedAgent[]>();
  for (const agent of options.agents) groups.set(agent.reader, [...(groups.get(agent.reader) ?? []), agent]);
  const heads = new Map<number, RemoteHead | Error>();
  const seqs = new Map<number, number>();
  // Each entry unpacked once (the state file keeps them packed; 10,000 agents at a start).
  const locals = new Map<number, AgentSnapshotState | undefined>();
  for (const agent of options.agents) {
    seqs.set(agent.index, await localSeq(storage, agent.index));
    locals.set(agent.index, state.agent(agent.index));
  }
  await Promise.all(
    [...groups].map(async ([reader, agents]) => {
      try {
        const found = await remoteHeads(
          reader,
          agents.map((a) => {
            const known = locals.get(a.index);
            return { signer: a.signer, name: a.name, knownManifestIds: [known?.manifestId, known?.previousManifestId].filter((id): id is string => id !== undefined), seqAtMost: Math.max(seqs.get(a.index)!, known?.acceptedSeq ?? 0) };
          }),
          options.signal ? { signal: options.signal } : {},
        );
        for (const a of agents) heads.set(a.index, found.get(a.signer.getPublicKey())!);
      } catch (error) {
        for (const a of agents) heads.set(a.index, error as Error);
      }
    }),
  );
  for (const agent of options.agents) {
    // Aborted (the daemon stops while it checks): the agents are not run, so there is nothing to tell about them.
    if (options.signal?.aborted) break;
    let verdict: SplitBrainVerdict;
    try {
      const remote = heads.get(agent.index)!;
      if (remote instanceof Error) throw remote;
      // A head that is this home's own last write is what `local` describes: nothing on the relays is unknown.
      verdict = splitBrainVerdict({ ours: state.daemonId, local: locals.get(agent.index), localSeq: seqs.get(agent.index)!, remote: remote.known ? undefined : remote.manifest, remoteSeq: remote.seq });
      if (verdict.action === 'adopt') {
        logger.log({ level: 'warn', ns: 'snapshot', msg: `agent ${agent.name}: ${verdict.reason}`, agent: agent.name });
        await adopt(storage, state, agent, options.now?.() ?? Date.now());
        const again = await remoteHead(agent.reader, agent.signer, agent.name);
        verdict = splitBrainVerdict({ ours: state.daemonId, local: state.agent(agent.index), localSeq: await localSeq(storage, agent.index), remote: again.manifest, remoteSeq: again.seq });
      }
    } catch (error) {
      logger.log({ level: 'warn', ns: 'snapshot', msg: `agent ${agent.name}: cannot check its snapshot on the relays; running it`, agent: agent.name, error: (error as Error).message });
      continue;
    }
    if (verdict.action === 'run') continue;
    held.add(agent.index);
    logger.log({ level: 'warn', ns: 'snapshot', msg: `agent ${agent.name} is held, not run here: ${verdict.reason}; run \`agent takeover ${agent.name}\` to run it on this machine, or stop the other one`, agent: agent.name, code: 'AGENT_HELD' });
  }
  return held;
}

/**
 * `agent takeover`: this home accepts what the relays hold for the agent. A newer snapshot from
 * another machine is imported first (so the agent carries on from its latest state), and the
 * trajectory seq on the relays is accepted, so the daemon runs the agent; its next snapshot, one
 * generation higher, makes the other machine hold it.
 */
export async function takeOver(options: { storage: GuardStorage; state: SnapshotStateFile; agent: GuardedAgent; now?: () => number }): Promise<{ imported: boolean; generation: number; seq: number }> {
  const { storage, state, agent } = options;
  const remote = await remoteHead(agent.reader, agent.signer, agent.name);
  const local = state.agent(agent.index);
  let imported = false;
  if (remote.manifest && remote.manifest.daemon !== state.daemonId && (!local || remote.manifest.generation > local.generation || remote.manifest.daemon !== local.daemon)) {
    await adopt(storage, state, agent, options.now?.() ?? Date.now());
    imported = true;
  }
  const known = state.agent(agent.index);
  const seq = Math.max(remote.seq ?? 0, known?.acceptedSeq ?? 0);
  state.setAgent(agent.index, { generation: known?.generation ?? 0, daemon: known?.daemon ?? state.daemonId, hashes: known?.hashes ?? {}, createdAt: known?.createdAt ?? 0, final: false, acceptedSeq: seq });
  return { imported, generation: known?.generation ?? 0, seq };
}
