/**
 * `agent restore`'s steps that need no database: which agents the owner has (its registry, else a
 * scan of the agent accounts for bot profiles naming it), and every agent's snapshot read and
 * verified. Only when all of them read cleanly does the caller import anything.
 */
import type { Signer } from '../signer/types.js';
import { SnapshotError } from './errors.js';
import type { Manifest } from './format.js';
import { readRegistry, readSnapshot, scanAgentAccounts, type ReadSnapshot, type SnapshotReader } from './read.js';
import type { AgentSnapshotState, SnapshotStateFile } from './state.js';

/** One agent to restore. */
export interface RestoreEntry {
  /** From the registry; `account N` when found by a scan (the manifest then names it). */
  name: string;
  index: number;
  account: number;
  pubkey: string;
  /** Relays the registry lists for it (besides the ones asked). */
  relays: string[];
}

/**
 * The owner's agents: from the registry, else by scanning accounts (gap limit 20). A registry can be
 * stale (one that failed to publish keeps the last good one on the relays), so accounts past its
 * highest are scanned as well and what they find is added.
 */
export async function findAgents(
  reader: SnapshotReader,
  owner: Signer,
  pubkeyOf: (account: number) => string,
  options: { signal?: AbortSignal } = {},
): Promise<{ source: 'registry' | 'scan'; agents: RestoreEntry[] }> {
  const registry = await readRegistry(reader, owner, options);
  if (registry) {
    const agents = registry.agents.map((a) => {
      // The registry is the owner's, but only the mnemonic says which key an account has.
      if (a.account !== a.index + 1 || pubkeyOf(a.account) !== a.pubkey) {
        throw new SnapshotError('SNAPSHOT_WRONG_AUTHOR', a.name, 'registry', `account ${a.account} lists key ${a.pubkey.slice(0, 16)}…, which this mnemonic does not derive there`);
      }
      return { name: a.name, index: a.index, account: a.account, pubkey: a.pubkey, relays: a.relays };
    });
    const last = agents.reduce((m, a) => Math.max(m, a.account), 0);
    const later = await scanAgentAccounts(reader, { ownerPubkey: owner.getPublicKey(), pubkeyOf, from: last + 1, ...options });
    for (const { account, pubkey } of later) agents.push({ name: `account ${account}`, index: account - 1, account, pubkey, relays: [] });
    return { source: 'registry', agents };
  }
  const found = await scanAgentAccounts(reader, { ownerPubkey: owner.getPublicKey(), pubkeyOf, ...options });
  return { source: 'scan', agents: found.map(({ account, pubkey }) => ({ name: `account ${account}`, index: account - 1, account, pubkey, relays: [] })) };
}

/** Reads every agent's snapshot (in order); the first failure is thrown, naming the agent and the part. */
export async function readAllSnapshots(
  readerFor: (entry: RestoreEntry) => SnapshotReader,
  entries: RestoreEntry[],
  signerFor: (index: number) => Signer,
  options: { signal?: AbortSignal } = {},
): Promise<ReadSnapshot[]> {
  const out: ReadSnapshot[] = [];
  for (const entry of entries) {
    const read = await readSnapshot(readerFor(entry), signerFor(entry.index), entry.name, options);
    if (read.snapshot.agent.index !== entry.index) {
      throw new SnapshotError('SNAPSHOT_INVALID', read.manifest.agent.name, 'agent', `says index ${read.snapshot.agent.index}, but its key is account ${entry.account} (index ${entry.index})`);
    }
    out.push(read);
  }
  return out;
}

/** What this home knows once it has imported `manifest` (the restored generation is its own now: the agent runs). */
export function restoredState(manifest: Manifest, createdAt: number, previous?: AgentSnapshotState): AgentSnapshotState {
  const hashes: Record<string, string> = {};
  for (const part of manifest.parts) for (const c of part.chunks) hashes[c.d] = c.sha256;
  return { ...(previous?.acceptedSeq !== undefined ? { acceptedSeq: previous.acceptedSeq } : {}), generation: manifest.generation, daemon: manifest.daemon, hashes, createdAt, final: manifest.final };
}

/** Records an imported snapshot in the home's bookkeeping. */
export function recordRestored(state: SnapshotStateFile, read: ReadSnapshot): void {
  state.setAgent(read.manifest.agent.index, restoredState(read.manifest, read.event.created_at, state.agent(read.manifest.agent.index)));
}
