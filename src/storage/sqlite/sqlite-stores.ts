/**
 * The seam's stores over one SQLite Db, each call run through `exec`: the engine's gate that
 * decides when a statement may touch the connection (at once, after the running transaction, or
 * inside it). The free functions underneath stay synchronous (better-sqlite3 is), so a call is one
 * uninterrupted unit on the connection.
 */
import type { StorageStores } from '../types.js';
import * as agents from './agent-store.js';
import * as budget from './budget-store.js';
import { commitTick } from './commit-tick.js';
import * as cursors from './cursor-store.js';
import type { Db } from './database.js';
import * as inbox from './inbox-store.js';
import { sqliteLeaseStore } from './lease-store.js';
import { getMeta, setMeta } from './meta-store.js';
import * as outbox from './outbox-store.js';
import * as processed from './processed-store.js';
import * as schedules from './schedule-store.js';
import { scopedConversations, scopedFacts, scopedGoals, scopedKv, scopedPeers } from './scoped-stores.js';
import { exportAgentMemory, importAgentMemory } from './snapshot-store.js';
import * as ticks from './tick-store.js';

/** Runs `fn` on the connection when the engine allows it; a throw becomes a rejection. */
export type Exec = <T>(fn: (db: Db) => T) => Promise<T>;

/** The meta key of an agent's trajectory chain head. */
const chainKey = (agentIndex: number): string => `trajectory:${agentIndex}`;

/** Every store of the seam, each method one `exec` call. */
export function sqliteStores(exec: Exec, now: () => number): StorageStores {
  return {
    agents: {
      create: (agent) => exec((db) => agents.createAgent(db, agent)),
      get: (ref) => exec((db) => agents.getAgent(db, ref)),
      getByPubkey: (pubkey) => exec((db) => agents.getAgentByPubkey(db, pubkey)),
      list: (filter) => exec((db) => agents.listAgents(db, filter)),
      updateState: (ref, state, opts) => exec((db) => agents.updateAgentState(db, ref, state, opts)),
      updateConfig: (ref, config, at) => exec((db) => agents.updateAgentConfig(db, ref, config, at)),
      recordTickResult: (ref, result) => exec((db) => agents.recordTickResult(db, ref, result)),
    },
    leases: sqliteLeaseStore(exec),
    kv: (agentIndex, options = {}) => scopedKv(exec, agentIndex, now, options.storageLimitBytes),
    facts: (agentIndex) => scopedFacts(exec, agentIndex, now),
    conversations: (agentIndex) => scopedConversations(exec, agentIndex),
    goals: (agentIndex) => scopedGoals(exec, agentIndex, now),
    peers: (agentIndex) => scopedPeers(exec, agentIndex),
    schedules: {
      create: (schedule) => exec((db) => schedules.createSchedule(db, schedule)),
      get: (id) => exec((db) => schedules.getSchedule(db, id)),
      getByKey: (agent, key) => exec((db) => schedules.getScheduleByKey(db, agent, key)),
      list: (agent) => exec((db) => schedules.listSchedules(db, agent)),
      delete: (id) => exec((db) => schedules.deleteSchedule(db, id)),
      deleteAll: (agent) => exec((db) => schedules.deleteAgentSchedules(db, agent)),
      nextDue: (o) => exec((db) => schedules.nextScheduleDue(db, o?.holder)),
      due: (at, limit) => exec((db) => schedules.dueSchedules(db, at, limit)),
      markFired: (id, at) => exec((db) => schedules.markScheduleFired(db, id, at)),
      fireDue: (at, limit, o) => exec((db) => schedules.fireDueSchedules(db, at, limit, o?.holder)),
    },
    inbox: {
      insert: (entry) => exec((db) => inbox.insertInbox(db, entry)),
      get: (id) => exec((db) => inbox.getInbox(db, id)),
      pending: (agent, opts) => exec((db) => inbox.pendingInbox(db, agent, opts)),
      agentsWithPending: (at) => exec((db) => inbox.agentsWithPendingInbox(db, at)),
      markDone: (id, at) => exec((db) => inbox.finishInbox(db, id, 'done', null, at)),
      markFailed: (id, reason, at) => exec((db) => inbox.finishInbox(db, id, 'failed', reason, at)),
      markRefused: (id, reason, at) => exec((db) => inbox.finishInbox(db, id, 'refused', reason, at)),
      recordAttempt: (id, opts) => exec((db) => inbox.recordInboxAttempt(db, id, opts)),
      prune: (olderThan) => exec((db) => inbox.pruneInbox(db, olderThan)),
      depth: () => exec((db) => inbox.inboxDepth(db)),
    },
    ticks: {
      nextSeq: (agent) => exec((db) => ticks.nextTickSeq(db, agent)),
      append: (agent, record) => exec((db) => ticks.appendTick(db, agent, record)),
      list: (agent, opts) => exec((db) => ticks.listTicks(db, agent, opts)),
      last: (agent) => exec((db) => ticks.lastTick(db, agent)),
      triggers: (agent, opts) => exec((db) => ticks.tickTriggers(db, agent, opts)),
      get: (agent, seq) => exec((db) => ticks.getTick(db, agent, seq)),
      unpublished: (agent, limit) => exec((db) => ticks.unpublishedTicks(db, agent, limit)),
      markPublished: (agent, seq, eventId, at) => exec((db) => ticks.markTickPublished(db, agent, seq, eventId, at)),
    },
    budget: {
      add: (agent, day, delta) => exec((db) => budget.addUsage(db, agent, day, delta)),
      get: (agent, day) => exec((db) => budget.getUsage(db, agent, day)),
      markNotified: (agent, day, metric, level) => exec((db) => budget.markUsageNotified(db, agent, day, metric, level)),
      storageBytes: (agent) => exec((db) => budget.storageBytes(db, agent)),
    },
    outbox: {
      enqueue: (entry) => exec((db) => outbox.enqueueOutbox(db, entry)),
      enqueueMany: (entries) => exec((db) => outbox.enqueueManyOutbox(db, entries)),
      due: (at, limit, o) => exec((db) => outbox.dueOutbox(db, at, limit, o)),
      nextDue: (o) => exec((db) => outbox.nextOutboxDue(db, o?.holder)),
      recordAttempt: (id, attempt) => exec((db) => outbox.recordOutboxAttempt(db, id, attempt)),
      markDelivered: (id, at) => exec((db) => outbox.markOutboxDelivered(db, id, at)),
      markFailed: (id, reason, at) => exec((db) => outbox.markOutboxFailed(db, id, reason, at)),
      settle: (settlements) => exec((db) => outbox.settleOutbox(db, settlements)),
      get: (id) => exec((db) => outbox.getOutbox(db, id)),
      getByEventId: (eventId) => exec((db) => outbox.getOutboxByEventId(db, eventId)),
      list: (filter) => exec((db) => outbox.listOutbox(db, filter)),
      prune: (olderThan) => exec((db) => outbox.pruneOutbox(db, olderThan)),
      counts: () => exec((db) => outbox.outboxCounts(db)),
    },
    processed: {
      isProcessed: (eventId) => exec((db) => processed.isProcessed(db, eventId)),
      markProcessed: (eventId, outcome, at) => exec((db) => processed.markProcessed(db, eventId, outcome, at)),
      prune: (olderThan) => exec((db) => processed.pruneProcessed(db, olderThan)),
    },
    cursors: {
      get: (relay) => exec((db) => cursors.getCursor(db, relay)),
      set: (relay, cursor) => exec((db) => cursors.setCursor(db, relay, cursor)),
      list: () => exec((db) => cursors.listCursors(db)),
    },
    chainHeads: {
      get: (agentIndex) => exec((db) => getMeta<unknown>(db, chainKey(agentIndex))),
      set: (agentIndex, head) => exec((db) => setMeta(db, chainKey(agentIndex), head)),
    },
    commitTick: (commit) => exec((db) => commitTick(db, commit)),
    exportMemory: (agentIndex) => exec((db) => exportAgentMemory(db, agentIndex)),
    importMemory: (agentIndex, snapshot, options) => exec((db) => importAgentMemory(db, agentIndex, snapshot, options.now, options.storageLimitBytes)),
  };
}
