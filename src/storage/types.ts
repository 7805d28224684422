/**
 * The AgentStorage seam: everything the runtime and the messaging layer persist, and the
 * exactly-once tick commit. The SQLite implementation lives in ./sqlite; callers import types from
 * here only (the record types live in three sibling files, re-exported below).
 */
import type { TickRecord } from '../trajectory/types.js';
import type {
  AgentRecord, AgentRegistry, ConversationStore, FactStore, GoalStatus, GoalStore, KvStore, NewMessage, PeerStore, PeerTrust,
} from './agent-types.js';
import type { CursorStore, OutboxEnqueue, OutboxStore, ProcessedStore } from './messaging-types.js';
import type { AgentMemorySnapshot } from './snapshot.js';
import type { BudgetLedger, DailyUsage, InboxStore, ScheduleSpec, ScheduleStore, TickStore, UsageDelta } from './runtime-types.js';

export type * from './agent-types.js';
export type * from './messaging-types.js';
export type * from './runtime-types.js';
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
 * The storage seam. Synchronous on purpose: better-sqlite3 is synchronous, a tick's commit is one
 * short transaction, and no await inside a transaction means no interleaving between agents.
 */
export interface AgentStorage {
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
  /** THE exactly-once primitive: applies a tick's buffered effects atomically. */
  commitTick(commit: TickCommit): TickCommitResult;
  /** Everything one agent remembers, as a JSON snapshot (for encrypted export). */
  exportMemory(agentIndex: number): AgentMemorySnapshot;
  /** Replaces the agent's memory with an untrusted snapshot (validated; atomic; refused past the storage limit). */
  importMemory(agentIndex: number, snapshot: unknown, options: { now: number; storageLimitBytes?: number }): AgentMemorySnapshot;
  /** Runs `fn` in one transaction (for callers composing several stores, e.g. inbox insert + markProcessed). */
  transaction<T>(fn: () => T): T;
  close(): void;
}
