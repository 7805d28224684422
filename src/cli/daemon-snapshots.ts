/**
 * The daemon's snapshots (docs/recovery.md), wired: the split-brain guard before agents run, a
 * snapshot of each agent it runs at start (its claim), debounced snapshots after ticks and state
 * changes, the owner's registry, and final snapshots at a graceful stop. Events go through the
 * outbox (one all-or-none storage call per snapshot) to the author's own relays.
 */
import type { NostrEvent } from '../protocol/event.js';
import type { WsRelayPool } from '../relay/relay-pool.js';
import { guardAgents } from '../recovery/guard.js';
import { poolReader } from '../recovery/pool-reader.js';
import { SnapshotPublisher } from '../recovery/publisher.js';
import type { SnapshotReader } from '../recovery/read.js';
import { SnapshotStateFile } from '../recovery/state.js';
import type { RuntimeEvent } from '../runtime/events.js';
import type { Signer } from '../signer/types.js';
import type { AgentRecord, AgentStorage } from '../storage/types.js';
import { collectGarbage } from '../util/full-gc.js';
import { IndexSet } from '../util/index-map.js';
import type { Logger } from '../util/logger.js';
import { agentRelays } from './agents.js';
import type { HomeContext } from './home-context.js';

const DEADLINE_MS = 3 * 24 * 3600 * 1000;
/** How often the daemon rewrites the snapshot bookkeeping file at most (ms). */
const STATE_COALESCE_MS = 1000;
/** Lifecycle states a snapshot does not tell apart (see `observe`). */
const RESTING: ReadonlySet<string> = new Set(['active', 'dormant']);
/** Start claims written per event-loop turn: the rest of the daemon (DMs, the control API) runs in between. */
const CLAIMS_PER_TURN = 25;
/**
 * A full collection after this many claims, and after the last of a start with more (util/full-gc.ts):
 * what they promote is then collected as it goes, not piled up to the old generation's first limit.
 */
export const CLAIMS_PER_COLLECTION = 1000;

/**
 * Queues one snapshot's (or registry's) events to their authors' own relays, all or none, with one
 * storage call: on PostgreSQL one INSERT of every row, not a transaction of one INSERT per chunk.
 */
export async function enqueueSnapshot(storage: Pick<AgentStorage, 'outbox'>, events: ReadonlyArray<{ agentPubkey: string; event: NostrEvent }>, now: number): Promise<void> {
  await storage.outbox.enqueueMany(events.map(({ agentPubkey, event }) => ({ agentPubkey, event, target: { type: 'own' } as const, now, deadlineAt: now + DEADLINE_MS })));
}

/** Options of the daemon's snapshot wiring. */
export interface DaemonSnapshotsOptions {
  home: HomeContext;
  storage: AgentStorage;
  pool: Pick<WsRelayPool, 'fetch'>;
  owner: Signer;
  signerFor: (index: number) => Signer;
  /** The index of the agent with this public key (the daemon's directory: no map of its own per agent here). */
  indexOf: (pubkey: string) => number | undefined;
  relaysOf: (record: AgentRecord) => string[];
  secrets: string[];
  logger: Logger;
  /** Wakes the outbox publisher. */
  onQueued: () => void;
}

/** The daemon's snapshot side. */
export function createDaemonSnapshots(options: DaemonSnapshotsOptions) {
  const { home, storage, logger } = options;
  // Bookkeeping writes are coalesced (see SnapshotStateFileOptions); `stop` flushes them.
  const state = new SnapshotStateFile(home.paths.snapshots, { coalesceMs: STATE_COALESCE_MS });
  // A new daemon id is written at once; an existing file is rewritten only when something changes (12 MB with 10,000 agents).
  if (state.isNew) state.save();
  const enqueue = (events: Array<{ agentPubkey: string; event: NostrEvent }>, now: number): Promise<void> => enqueueSnapshot(storage, events, now);
  const publisher = new SnapshotPublisher({
    storage,
    signerFor: options.signerFor,
    owner: options.owner,
    state,
    enqueue,
    onQueued: options.onQueued,
    intervalMs: home.config.recovery.intervalMs,
    chunkBytes: home.config.recovery.chunkBytes,
    secrets: options.secrets,
    logger,
  });
  const running = new IndexSet();
  let stopping = false;
  // One reader per set of relays, so the guard batches the agents that share them.
  const readers = new Map<string, SnapshotReader>();
  const readerFor = (relays: string[]): SnapshotReader => {
    const key = JSON.stringify([...relays].sort());
    let reader = readers.get(key);
    if (!reader) readers.set(key, (reader = poolReader(options.pool, { relays, timeoutMs: 10_000 })));
    return reader;
  };

  /** The owner's registry of every agent not terminated. */
  const registry = async (all: AgentRecord[]): Promise<void> => {
    const agents = all.filter((r) => r.state !== 'terminated').map((r) => ({ name: r.name, index: r.index, account: r.account, pubkey: r.pubkey, relays: agentRelays(r) }));
    await publisher.writeRegistry(agents).catch((error: unknown) => logger.log({ level: 'warn', ns: 'snapshot', msg: 'registry failed', error: (error as Error).message }));
  };
  /** The start claims of `claims` (agent indexes), CLAIMS_PER_TURN per event-loop turn, not before `after`; then the registry. */
  const claim = async (claims: number[], all: () => Promise<AgentRecord[]>, after: Promise<void> | undefined): Promise<void> => {
    await after;
    for (const [i, index] of claims.entries()) {
      if (stopping) return;
      if (i > 0 && i % CLAIMS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
      if (i > 0 && i % CLAIMS_PER_COLLECTION === 0) collectGarbage();
      // The key in `agent`: the daemon's logger names the agent.
      await publisher.write(index, { force: true }).catch((error: unknown) => logger.log({ level: 'warn', ns: 'snapshot', msg: 'snapshot failed', agent: options.signerFor(index).getPublicKey(), error: (error as Error).message }));
    }
    await registry(await all());
    state.flush();
    if (claims.length >= CLAIMS_PER_COLLECTION) collectGarbage();
  };

  return {
    state,
    /** The agents of `records` to hold (not run): another machine may be running them (SQLite homes only). */
    guard(records: AgentRecord[], guardOptions: { signal?: AbortSignal } = {}): Promise<Set<number>> {
      // Daemons sharing a database server share the agents' state: their leases decide who runs what.
      if (storage.engine !== 'sqlite') return Promise.resolve(new Set());
      return guardAgents({
        storage,
        state,
        logger,
        agents: records.map((r) => ({ index: r.index, name: r.name, signer: options.signerFor(r.index), reader: readerFor(options.relaysOf(r)) })),
        ...(guardOptions.signal ? { signal: guardOptions.signal } : {}),
      });
    },
    /**
     * This daemon runs `records` now: a snapshot of each (even unchanged: the claim) and the registry.
     * The agents count as running at once (their ticks schedule snapshots, a stop writes their final
     * ones); the claims follow a few per event-loop turn, so thousands of agents do not hold up the start,
     * and not before `after` (the daemon's start: claims are background work, the agents run meanwhile;
     * until a claim is out, the relays hold this home's own last snapshot, as they do while it is published).
     */
    start(records: AgentRecord[], all: () => Promise<AgentRecord[]>, when: { after?: Promise<void> } = {}): Promise<void> {
      for (const r of records) running.add(r.index);
      // Only the indexes are kept while the claims go out (with 10,000 agents, for many seconds): not the
      // rows (~0.3 KiB each); the registry's list is read when they are done.
      // A new agent's first snapshot follows its create tick (tick.finished schedules it): a claim now would be written twice.
      const claims = records.filter((r) => r.state !== 'creating').map((r) => r.index);
      return claim(claims, all, when.after);
    },
    /** A new agent: snapshot it and update the registry. */
    async added(record: AgentRecord, all: AgentRecord[]): Promise<void> {
      running.add(record.index);
      publisher.changed(record.index);
      await registry(all);
    },
    /** The owner's registry of every agent not terminated. */
    registry,
    /**
     * Runtime events that change an agent's state schedule its next snapshot. Waking and resting
     * (active ↔ dormant) do not: a snapshot writes both as `dormant` (collect.ts), so nothing it
     * holds changed; the tick that follows a wake schedules one.
     */
    observe(event: RuntimeEvent): void {
      if (event.type !== 'tick.finished' && event.type !== 'agent.state') return;
      if (event.type === 'agent.state' && RESTING.has(event.from) && RESTING.has(event.to)) return;
      const index = options.indexOf(event.agent);
      if (index !== undefined && running.has(index)) publisher.changed(index);
    },
    /** Final snapshots of every agent this daemon ran (after its ticks stopped). */
    async stop(): Promise<void> {
      stopping = true;
      try {
        await publisher.stop([...running]);
      } finally {
        state.flush();
      }
    },
  };
}
