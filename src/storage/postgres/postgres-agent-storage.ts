/**
 * PostgresAgentStorage: the AgentStorage seam over a node-postgres pool. Every store is a thin
 * object binding free functions `(ex, …)` to an executor: the pool's for the storage itself, one
 * connection's inside `transaction(fn)`, so the same code serves both (see executor.ts for the
 * transaction, retry and misuse rules).
 */
import type { Clock } from '../../util/clock.js';
import type { ConversationStore, FactStore, GoalStore, JsonValue, KvStore, PeerStore } from '../agent-types.js';
import type { AgentStorage, StorageStores, StorageTx, TickCommit, TickCommitResult } from '../types.js';
import type { AgentMemorySnapshot } from '../snapshot.js';
import * as agents from './agent-store.js';
import * as budget from './budget-store.js';
import { commitTick } from './commit-tick.js';
import type { Ex, PoolExecutor } from './executor.js';
import * as facts from './fact-store.js';
import * as inbox from './inbox-store.js';
import * as kv from './kv-store.js';
import { pgLeaseStore } from './lease-store.js';
import * as memory from './memory-stores.js';
import * as messaging from './messaging-stores.js';
import * as outbox from './outbox-store.js';
import * as schedules from './schedule-store.js';
import { exportAgentMemory, importAgentMemory } from './snapshot-store.js';
import * as ticks from './tick-store.js';

/** Every store bound to one executor. */
function bindStores(ex: Ex, now: () => number): StorageStores {
  return {
    leases: pgLeaseStore(ex),
    agents: {
      create: (agent) => agents.createAgent(ex, agent),
      get: (ref) => agents.getAgent(ex, ref),
      getByPubkey: (pubkey) => agents.getAgentByPubkey(ex, pubkey),
      list: (filter) => agents.listAgents(ex, filter),
      updateState: (ref, state, opts) => agents.updateAgentState(ex, ref, state, opts),
      updateConfig: (ref, config, at) => agents.updateAgentConfig(ex, ref, config, at),
      recordTickResult: (ref, result) => agents.recordTickResult(ex, ref, result),
    },
    kv(agentIndex: number, options: { storageLimitBytes?: number } = {}): KvStore {
      const limit = options.storageLimitBytes;
      return {
        get: async <T = JsonValue>(key: string) => (await kv.kvGet(ex, agentIndex, key)) as T | undefined,
        set: (key, value) => budget.withStorageLimit(ex, agentIndex, limit, (e) => kv.kvSet(e, agentIndex, key, value, now())),
        delete: (key) => kv.kvDelete(ex, agentIndex, key),
        list: (prefix, opts) => kv.kvList(ex, agentIndex, prefix, opts?.limit),
      };
    },
    facts(agentIndex: number): FactStore {
      return {
        add: (text, options) => facts.addFact(ex, agentIndex, text, options?.tags ?? [], now()),
        search: (words, limit) => facts.searchFacts(ex, agentIndex, words, limit),
        forget: (words) => facts.forgetFacts(ex, agentIndex, words),
        forgetId: (id) => facts.forgetFact(ex, agentIndex, id),
        get: (id) => facts.getFact(ex, agentIndex, id),
        list: (options) => facts.listFacts(ex, agentIndex, options?.limit),
      };
    },
    conversations(agentIndex: number): ConversationStore {
      return {
        append: (message) => memory.appendMessage(ex, agentIndex, message),
        history: (peer, limit) => memory.conversationHistory(ex, agentIndex, peer, limit),
      };
    },
    goals(agentIndex: number): GoalStore {
      return {
        add: (text, options) => memory.addGoal(ex, agentIndex, text, options?.dueAt, now()),
        setStatus: (id, status) => memory.setGoalStatus(ex, agentIndex, id, status, now()),
        list: (filter) => memory.listGoals(ex, agentIndex, filter?.status),
      };
    },
    peers(agentIndex: number): PeerStore {
      return {
        touch: (pubkey, at, options) => memory.touchPeer(ex, agentIndex, pubkey, at, options?.trust),
        setTrust: (pubkey, trust) => memory.setPeerTrust(ex, agentIndex, pubkey, trust),
        get: (pubkey) => memory.getPeer(ex, agentIndex, pubkey),
        list: (options) => memory.listPeers(ex, agentIndex, options?.limit),
      };
    },
    schedules: {
      create: (schedule) => schedules.createSchedule(ex, schedule),
      get: (id) => schedules.getSchedule(ex, id),
      getByKey: (agent, key) => schedules.getScheduleByKey(ex, agent, key),
      list: (agent) => schedules.listSchedules(ex, agent),
      delete: (id) => schedules.deleteSchedule(ex, id),
      deleteAll: (agent) => schedules.deleteAgentSchedules(ex, agent),
      nextDue: (o) => schedules.nextScheduleDue(ex, o?.holder),
      due: (at, limit) => schedules.dueSchedules(ex, at, limit),
      markFired: (id, at) => schedules.markScheduleFired(ex, id, at),
      fireDue: (at, limit, o) => schedules.fireDueSchedules(ex, at, limit, o?.holder),
    },
    inbox: {
      insert: (entry) => inbox.insertInbox(ex, entry),
      get: (id) => inbox.getInbox(ex, id),
      pending: (agent, opts) => inbox.pendingInbox(ex, agent, opts),
      agentsWithPending: (at) => inbox.agentsWithPendingInbox(ex, at),
      markDone: (id, at) => inbox.finishInbox(ex, id, 'done', null, at),
      markFailed: (id, reason, at) => inbox.finishInbox(ex, id, 'failed', reason, at),
      markRefused: (id, reason, at) => inbox.finishInbox(ex, id, 'refused', reason, at),
      recordAttempt: (id, opts) => inbox.recordInboxAttempt(ex, id, opts),
      prune: (olderThan) => inbox.pruneInbox(ex, olderThan),
      depth: () => inbox.inboxDepth(ex),
    },
    ticks: {
      nextSeq: (agent) => ticks.nextTickSeq(ex, agent),
      append: (agent, record) => ticks.appendTick(ex, agent, record),
      list: (agent, opts) => ticks.listTicks(ex, agent, opts),
      last: (agent) => ticks.lastTick(ex, agent),
      triggers: (agent, opts) => ticks.tickTriggers(ex, agent, opts),
      get: (agent, seq) => ticks.getTick(ex, agent, seq),
      unpublished: (agent, limit) => ticks.unpublishedTicks(ex, agent, limit),
      markPublished: (agent, seq, eventId, at) => ticks.markTickPublished(ex, agent, seq, eventId, at),
    },
    budget: {
      add: (agent, day, delta) => budget.addUsage(ex, agent, day, delta),
      get: (agent, day) => budget.getUsage(ex, agent, day),
      markNotified: (agent, day, metric, level) => budget.markUsageNotified(ex, agent, day, metric, level),
      storageBytes: (agent) => agents.storageBytes(ex, agent),
    },
    outbox: {
      enqueue: (entry) => outbox.enqueueOutbox(ex, entry),
      enqueueMany: (entries) => outbox.enqueueManyOutbox(ex, entries),
      due: (at, limit, o) => outbox.dueOutbox(ex, at, limit, o),
      nextDue: (o) => outbox.nextOutboxDue(ex, o?.holder),
      recordAttempt: (id, attempt) => outbox.recordOutboxAttempt(ex, id, attempt),
      markDelivered: (id, at) => outbox.markOutboxDelivered(ex, id, at),
      markFailed: (id, reason, at) => outbox.markOutboxFailed(ex, id, reason, at),
      settle: (settlements) => outbox.settleOutbox(ex, settlements),
      get: (id) => outbox.getOutbox(ex, id),
      getByEventId: (eventId) => outbox.getOutboxByEventId(ex, eventId),
      list: (filter) => outbox.listOutbox(ex, filter),
      prune: (olderThan) => outbox.pruneOutbox(ex, olderThan),
      counts: () => outbox.outboxCounts(ex),
    },
    processed: {
      isProcessed: (eventId) => messaging.isProcessed(ex, eventId),
      markProcessed: (eventId, outcome, at) => messaging.markProcessed(ex, eventId, outcome, at),
      prune: (olderThan) => messaging.pruneProcessed(ex, olderThan),
    },
    cursors: {
      get: (relay) => messaging.getCursor(ex, relay),
      set: (relay, cursor) => messaging.setCursor(ex, relay, cursor),
      list: () => messaging.listCursors(ex),
    },
    chainHeads: {
      get: (agentIndex) => messaging.getChainHead(ex, agentIndex),
      set: (agentIndex, head) => messaging.setChainHead(ex, agentIndex, head),
    },
    commitTick: (commit: TickCommit): Promise<TickCommitResult> => commitTick(ex, commit),
    exportMemory: (agentIndex: number): Promise<AgentMemorySnapshot> => exportAgentMemory(ex, agentIndex),
    importMemory: (agentIndex, snapshot, options) => importAgentMemory(ex, agentIndex, snapshot, options.now, options.storageLimitBytes),
  };
}

/** The PostgreSQL implementation of AgentStorage. */
export class PostgresAgentStorage implements AgentStorage {
  readonly engine = 'postgres';
  readonly agents: StorageStores['agents'];
  readonly schedules: StorageStores['schedules'];
  readonly inbox: StorageStores['inbox'];
  readonly ticks: StorageStores['ticks'];
  readonly budget: StorageStores['budget'];
  readonly outbox: StorageStores['outbox'];
  readonly processed: StorageStores['processed'];
  readonly cursors: StorageStores['cursors'];
  readonly chainHeads: StorageStores['chainHeads'];
  readonly leases: StorageStores['leases'];
  readonly #stores: StorageStores;
  readonly #ex: PoolExecutor;
  readonly #now: () => number;

  constructor(ex: PoolExecutor, options: { clock?: Pick<Clock, 'now'> } = {}) {
    const clock = options.clock;
    this.#now = clock ? () => clock.now() : Date.now;
    this.#ex = ex;
    const stores = bindStores(ex, this.#now);
    this.#stores = stores;
    this.agents = stores.agents;
    this.schedules = stores.schedules;
    this.inbox = stores.inbox;
    this.ticks = stores.ticks;
    this.budget = stores.budget;
    this.outbox = stores.outbox;
    this.processed = stores.processed;
    this.cursors = stores.cursors;
    this.chainHeads = stores.chainHeads;
    this.leases = stores.leases;
  }

  kv(agentIndex: number, options?: { storageLimitBytes?: number }): KvStore {
    return this.#stores.kv(agentIndex, options);
  }

  facts(agentIndex: number): FactStore {
    return this.#stores.facts(agentIndex);
  }

  conversations(agentIndex: number): ConversationStore {
    return this.#stores.conversations(agentIndex);
  }

  goals(agentIndex: number): GoalStore {
    return this.#stores.goals(agentIndex);
  }

  peers(agentIndex: number): PeerStore {
    return this.#stores.peers(agentIndex);
  }

  commitTick(commit: TickCommit): Promise<TickCommitResult> {
    return this.#stores.commitTick(commit);
  }

  exportMemory(agentIndex: number): Promise<AgentMemorySnapshot> {
    return this.#stores.exportMemory(agentIndex);
  }

  importMemory(agentIndex: number, snapshot: unknown, options: { now: number; storageLimitBytes?: number }): Promise<AgentMemorySnapshot> {
    return this.#stores.importMemory(agentIndex, snapshot, options);
  }

  /** Runs `fn` in one transaction on one connection; `tx` is valid until `fn` settles. */
  transaction<T>(fn: (tx: StorageTx) => Promise<T>): Promise<T> {
    return this.#ex.unit((ex) => fn(bindStores(ex, this.#now)));
  }

  /** Waits for running units and ends the pool (idempotent). */
  close(): Promise<void> {
    return this.#ex.close();
  }
}
