/**
 * The AgentStorage seam: everything the runtime and the messaging layer persist, and the
 * exactly-once tick commit. The SQLite implementation lives in ./sqlite; callers import types from
 * here only (the record types live in three sibling files, re-exported below).
 */
import type { TickRecord } from '../trajectory/types.js';
import type {
  AgentRecord, AgentRegistry, ConversationStore, FactStore, GoalStatus, GoalStore, KvStore, NewMessage, PeerStore, PeerTrust,
} from './agent-types.js';
import type { ChainHeadStore, CursorStore, OutboxEnqueue, OutboxStore, ProcessedStore } from './messaging-types.js';
import type { Fence, LeaseStore } from './lease-types.js';
import type { AgentMemorySnapshot } from './snapshot.js';
import type { BudgetLedger, DailyUsage, InboxStore, ScheduleSpec, ScheduleStore, TickStore, UsageDelta } from './runtime-types.js';

export type * from './agent-types.js';
export type * from './messaging-types.js';
export type * from './runtime-types.js';
export type * from './lease-types.js';
export type { AgentMemorySnapshot } from './snapshot.js';

/** A buffered kv write. */
export type KvOp = { op: 'set'; key: string; value: unknown } | { op: 'delete'; key: string };
/** A buffered fact change. */
export type FactOp = { op: 'add'; text: string; tags?: string[] } | { op: 'forget'; words: string } | { op: 'forgetId'; id: number };
/** A buffered goal change. */
export type GoalOp = { op: 'add'; text: string; dueAt?: number } | { op: 'status'; id: number; status: GoalStatus };
/** A buffered schedule change. */
export type ScheduleOp =
  | { op: 'create'; spec: ScheduleSpec; payload?: unknown; key?: string }
  | { op: 'delete'; id: number }
  | { op: 'deleteKey'; key: string };
/** A buffered outgoing event (the agent's pubkey and `now` come from the commit). */
export type OutboxOp = Omit<OutboxEnqueue, 'agentPubkey' | 'now'>;

/**
 * Everything one tick changed, applied by `commitTick` in ONE transaction, in this order: kv, facts,
 * messages, peers, goals, schedules, outbox, tick record, usage, agent counters, inbox row. Any
 * failure (bad input, budget, an inbox row no longer pending) rolls the whole commit back.
 */
export interface TickCommit {
  agentIndex: number;
  now: number;
  /**
   * The daemon's proof of holding the agent, checked FIRST inside the transaction (PostgreSQL: the
   * lease row locked FOR SHARE): when it no longer holds, LeaseLostError and nothing is written.
   */
  fence?: Fence;
  kv?: KvOp[];
  facts?: FactOp[];
  messages?: NewMessage[];
  peers?: Array<{ pubkey: string; at: number; trust?: PeerTrust }>;
  goals?: GoalOp[];
  schedules?: ScheduleOp[];
  outbox?: OutboxOp[];
  tick?: TickRecord;
  /** Added to the UTC day of `now`. */
  usage?: UsageDelta;
  /** Updates the agent's tick counters (recordTickResult) in the same transaction. */
  result?: { ok: boolean; error?: string };
  /** The trigger this tick consumed; it must still be pending (else StorageConflictError: it was already handled). */
  inbox?: { id: number; status: 'done' } | { id: number; status: 'failed' | 'refused'; reason: string };
  /** Refuse (StorageBudgetExceededError, nothing written) if the commit grows storage past this. */
  storageLimitBytes?: number;
}

/** What a commit created, for the runtime's events and trajectory. */
export interface TickCommitResult {
  factIds: number[];
  forgotten: number;
  goalIds: number[];
  scheduleIds: number[];
  outboxIds: number[];
  storageBytes: number;
  usage?: DailyUsage;
  agent?: AgentRecord;
}

/**
 * The storage seam: the ONLY way any layer reaches persistent state. Asynchronous, so an engine may
 * sit across a network (PostgreSQL) as well as in-process (SQLite). Every method returns a Promise;
 * the lint rule @typescript-eslint/no-floating-promises makes a forgotten `await` a build failure.
 *
 * Consistency rules every engine keeps:
 * - Each method is atomic on its own (one statement or one internal transaction).
 * - `commitTick` applies a whole tick in ONE transaction (the exactly-once primitive).
 * - `transaction(fn)` runs `fn(tx)` in one transaction: every call made through `tx` commits with it,
 *   or none does if `fn` rejects. Calls on the storage itself (not `tx`) from inside `fn` are a bug
 *   (StorageMisuseError on SQLite; on a pooled engine they would run outside the transaction).
 * - Transactions are serializable with respect to each other: two never interleave their writes.
 */
export interface AgentStorage extends StorageStores {
  /** Which engine this is ('sqlite', 'postgres'): for logs and `agent db status`. */
  readonly engine: string;
  /** Runs `fn` in one transaction (for callers composing several stores, e.g. inbox insert + markProcessed). */
  transaction<T>(fn: (tx: StorageTx) => Promise<T>): Promise<T>;
  /** Waits for running work and closes the engine (idempotent). */
  close(): Promise<void>;
}

/** Every store of the seam (what a transaction handle offers too). */
export interface StorageStores {
  readonly agents: AgentRegistry;
  /** Agent-scoped stores (cheap to create; hold no state but the index). */
  kv(agentIndex: number, options?: { storageLimitBytes?: number }): KvStore;
  facts(agentIndex: number): FactStore;
  conversations(agentIndex: number): ConversationStore;
  goals(agentIndex: number): GoalStore;
  peers(agentIndex: number): PeerStore;
  readonly schedules: ScheduleStore;
  readonly inbox: InboxStore;
  readonly ticks: TickStore;
  readonly budget: BudgetLedger;
  readonly outbox: OutboxStore;
  readonly processed: ProcessedStore;
  readonly cursors: CursorStore;
  /** Each agent's trajectory chain head (written with the tick's outbox rows, in one transaction). */
  readonly chainHeads: ChainHeadStore;
  /** The daemon registry and the agents' leases (many daemons on one database; lease-types.ts). */
  readonly leases: LeaseStore;
  /** THE exactly-once primitive: applies a tick's buffered effects atomically. */
  commitTick(commit: TickCommit): Promise<TickCommitResult>;
  /** Everything one agent remembers, as a JSON snapshot (for encrypted export). */
  exportMemory(agentIndex: number): Promise<AgentMemorySnapshot>;
  /** Replaces the agent's memory with an untrusted snapshot (validated; atomic; refused past the storage limit). */
  importMemory(agentIndex: number, snapshot: unknown, options: { now: number; storageLimitBytes?: number }): Promise<AgentMemorySnapshot>;
}

/**
 * The handle `transaction(fn)` passes to `fn`: the same stores, bound to the open transaction. It
 * is valid only until `fn` settles (a late call rejects with StorageMisuseError). No nesting: compose
 * inside one `fn` instead.
 */
export type StorageTx = StorageStores;
