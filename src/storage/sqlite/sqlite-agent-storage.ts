/**
 * SqliteAgentStorage: the AgentStorage seam over one better-sqlite3 database (WAL, migrated on
 * open). A thin class: every method delegates to a free function `(db, …)`, and prepared
 * statements are cached per Db. Times for writes that take no explicit `now` come from `clock`.
 */
import type { Clock } from '../../util/clock.js';
import type { AgentRegistry, ConversationStore, FactStore, GoalStore, KvStore, PeerStore } from '../agent-types.js';
import type { CursorStore, OutboxStore, ProcessedStore } from '../messaging-types.js';
import type { BudgetLedger, InboxStore, ScheduleStore, TickStore } from '../runtime-types.js';
import type { AgentMemorySnapshot } from '../snapshot.js';
import type { AgentStorage, TickCommit, TickCommitResult } from '../types.js';
import * as agents from './agent-store.js';
import * as budget from './budget-store.js';
import { commitTick } from './commit-tick.js';
import * as cursors from './cursor-store.js';
import { openDatabase, type Db } from './database.js';
import * as inbox from './inbox-store.js';
import * as outbox from './outbox-store.js';
import * as processed from './processed-store.js';
import * as schedules from './schedule-store.js';
import { exportAgentMemory, importAgentMemory } from './snapshot-store.js';
import { scopedConversations, scopedFacts, scopedGoals, scopedKv, scopedPeers } from './scoped-stores.js';
import * as ticks from './tick-store.js';

/** Options for `SqliteAgentStorage.open`. */
export interface SqliteAgentStorageOptions {
  /** Where default timestamps come from (default: Date.now). */
  clock?: Pick<Clock, 'now'>;
}

/** The SQLite implementation of AgentStorage. */
export class SqliteAgentStorage implements AgentStorage {
  readonly agents: AgentRegistry;
  readonly schedules: ScheduleStore;
  readonly inbox: InboxStore;
  readonly ticks: TickStore;
  readonly budget: BudgetLedger;
  readonly outbox: OutboxStore;
  readonly processed: ProcessedStore;
  readonly cursors: CursorStore;
  readonly #now: () => number;

  /** Opens (creating and migrating) the database file, or `:memory:`. */
  static open(file: string, options: SqliteAgentStorageOptions = {}): SqliteAgentStorage {
    return new SqliteAgentStorage(openDatabase(file), options);
  }

  /** Wraps an already opened and migrated Db (the messaging layer may share it). */
  constructor(
    readonly db: Db,
    options: SqliteAgentStorageOptions = {},
  ) {
    const clock = options.clock;
    this.#now = clock ? () => clock.now() : Date.now;
    this.agents = {
      create: (agent) => agents.createAgent(db, agent),
      get: (ref) => agents.getAgent(db, ref),
      getByPubkey: (pubkey) => agents.getAgentByPubkey(db, pubkey),
      list: (filter) => agents.listAgents(db, filter),
      updateState: (ref, state, opts) => agents.updateAgentState(db, ref, state, opts),
      updateConfig: (ref, config, now) => agents.updateAgentConfig(db, ref, config, now),
      recordTickResult: (ref, result) => agents.recordTickResult(db, ref, result),
    };
    this.schedules = {
      create: (schedule) => schedules.createSchedule(db, schedule),
      get: (id) => schedules.getSchedule(db, id),
      getByKey: (agent, key) => schedules.getScheduleByKey(db, agent, key),
      list: (agent) => schedules.listSchedules(db, agent),
      delete: (id) => schedules.deleteSchedule(db, id),
      deleteAll: (agent) => schedules.deleteAgentSchedules(db, agent),
      nextDue: () => schedules.nextScheduleDue(db),
      due: (now, limit) => schedules.dueSchedules(db, now, limit),
      markFired: (id, now) => schedules.markScheduleFired(db, id, now),
      fireDue: (now, limit) => schedules.fireDueSchedules(db, now, limit),
    };
    this.inbox = {
      insert: (entry) => inbox.insertInbox(db, entry),
      get: (id) => inbox.getInbox(db, id),
      pending: (agent, opts) => inbox.pendingInbox(db, agent, opts),
      agentsWithPending: (now) => inbox.agentsWithPendingInbox(db, now),
      markDone: (id, now) => inbox.finishInbox(db, id, 'done', null, now),
      markFailed: (id, reason, now) => inbox.finishInbox(db, id, 'failed', reason, now),
      markRefused: (id, reason, now) => inbox.finishInbox(db, id, 'refused', reason, now),
      recordAttempt: (id, opts) => inbox.recordInboxAttempt(db, id, opts),
      prune: (olderThan) => inbox.pruneInbox(db, olderThan),
      depth: () => inbox.inboxDepth(db),
    };
    this.ticks = {
      nextSeq: (agent) => ticks.nextTickSeq(db, agent),
      append: (agent, record) => ticks.appendTick(db, agent, record),
      list: (agent, opts) => ticks.listTicks(db, agent, opts),
      last: (agent) => ticks.lastTick(db, agent),
      get: (agent, seq) => ticks.getTick(db, agent, seq),
      unpublished: (agent, limit) => ticks.unpublishedTicks(db, agent, limit),
      markPublished: (agent, seq, eventId, now) => ticks.markTickPublished(db, agent, seq, eventId, now),
    };
    this.budget = {
      add: (agent, day, delta) => budget.addUsage(db, agent, day, delta),
      get: (agent, day) => budget.getUsage(db, agent, day),
      markNotified: (agent, day, metric, level) => budget.markUsageNotified(db, agent, day, metric, level),
      storageBytes: (agent) => budget.storageBytes(db, agent),
    };
    this.outbox = {
      enqueue: (entry) => outbox.enqueueOutbox(db, entry),
      due: (now, limit) => outbox.dueOutbox(db, now, limit),
      nextDue: () => outbox.nextOutboxDue(db),
      recordAttempt: (id, attempt) => outbox.recordOutboxAttempt(db, id, attempt),
      markDelivered: (id, now) => outbox.markOutboxDelivered(db, id, now),
      markFailed: (id, reason, now) => outbox.markOutboxFailed(db, id, reason, now),
      get: (id) => outbox.getOutbox(db, id),
      getByEventId: (eventId) => outbox.getOutboxByEventId(db, eventId),
      list: (filter) => outbox.listOutbox(db, filter),
      prune: (olderThan) => outbox.pruneOutbox(db, olderThan),
      counts: () => outbox.outboxCounts(db),
    };
    this.processed = {
      isProcessed: (eventId) => processed.isProcessed(db, eventId),
      markProcessed: (eventId, outcome, now) => processed.markProcessed(db, eventId, outcome, now),
      prune: (olderThan) => processed.pruneProcessed(db, olderThan),
    };
    this.cursors = {
      get: (relay) => cursors.getCursor(db, relay),
      set: (relay, cursor) => cursors.setCursor(db, relay, cursor),
      list: () => cursors.listCursors(db),
    };
  }

  kv(agentIndex: number, options: { storageLimitBytes?: number } = {}): KvStore {
    return scopedKv(this.db, agentIndex, this.#now, options.storageLimitBytes);
  }

  facts(agentIndex: number): FactStore {
    return scopedFacts(this.db, agentIndex, this.#now);
  }

  conversations(agentIndex: number): ConversationStore {
    return scopedConversations(this.db, agentIndex);
  }

  goals(agentIndex: number): GoalStore {
    return scopedGoals(this.db, agentIndex, this.#now);
  }

  peers(agentIndex: number): PeerStore {
    return scopedPeers(this.db, agentIndex);
  }

  commitTick(commit: TickCommit): TickCommitResult {
    return commitTick(this.db, commit);
  }

  exportMemory(agentIndex: number): AgentMemorySnapshot {
    return exportAgentMemory(this.db, agentIndex);
  }

  importMemory(agentIndex: number, snapshot: unknown, options: { now: number; storageLimitBytes?: number }): AgentMemorySnapshot {
    return importAgentMemory(this.db, agentIndex, snapshot, options.now, options.storageLimitBytes);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Closes the database (idempotent). */
  close(): void {
    if (this.db.open) this.db.close();
  }
}
