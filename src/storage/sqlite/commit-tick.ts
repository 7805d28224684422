/**
 * commitTick: THE exactly-once primitive. A tick buffers its effects in memory; this applies them
 * all in ONE synchronous SQLite transaction (state, outgoing events, the tick record, usage, the
 * consumed trigger). A crash or abort before it leaves nothing; after it, the outbox delivers.
 */
import { LeaseLostError, StorageConflictError, StorageInputError } from '../errors.js';
import type { TickCommit, TickCommitResult } from '../types.js';
import { utcDay } from '../time.js';
import { recordTickResult, requireCommitView } from './agent-store.js';
import { addUsage, checkStorageLimit, storageBytes } from './budget-store.js';
import { appendMessage } from './conversation-store.js';
import type { Db } from './database.js';
import { addFact, forgetFact, forgetFacts } from './fact-store.js';
import { addGoal, setGoalStatus } from './goal-store.js';
import { finishOwnInbox, getInbox } from './inbox-store.js';
import { kvDelete, kvSet } from './kv-store.js';
import { fenceHolds } from './lease-store.js';
import { enqueueOutbox } from './outbox-store.js';
import { touchPeer } from './peer-store.js';
import { createSchedule, deleteSchedule, getSchedule, getScheduleByKey } from './schedule-store.js';
import { appendTick } from './tick-store.js';

/**
 * Applies a tick's buffered effects atomically, in the order documented on TickCommit. Throws (and
 * writes nothing) on bad input, StorageBudgetExceededError, or an inbox row that is no longer
 * pending (StorageConflictError: the trigger was already handled, so its effects must not repeat).
 */
export function commitTick(db: Db, commit: TickCommit): TickCommitResult {
  const { agentIndex: agent, now } = commit;
  return db.transaction((): TickCommitResult => {
    // The lease first: a daemon that lost the agent writes nothing at all.
    if (commit.fence && (commit.fence.agentIndex !== agent || !fenceHolds(db, commit.fence))) {
      throw new LeaseLostError(agent, commit.fence.daemonId, commit.fence.epoch);
    }
    // The agent row is read once, for the outbox's signer and the storage limit's "before"; the
    // "after" comes back with the tick result's UPDATE (RETURNING). It used to be read six times.
    const record = requireCommitView(db, agent);
    const result: TickCommitResult = { factIds: [], forgotten: 0, goalIds: [], scheduleIds: [], outboxIds: [], storageBytes: 0 };

    // The trigger first: if it was already consumed, stop before anything else is written.
    if (commit.inbox) {
      const reason = commit.inbox.status === 'done' ? null : commit.inbox.reason;
      if (!finishOwnInbox(db, agent, commit.inbox.id, commit.inbox.status, reason, now)) {
        const row = getInbox(db, commit.inbox.id);
        if (!row || row.agentIndex !== agent) throw new StorageInputError(`inbox row ${commit.inbox.id} does not belong to agent ${agent}`);
        throw new StorageConflictError(`inbox row ${commit.inbox.id} is already ${row.status}; the tick's effects were not applied again`);
      }
    }
    for (const op of commit.kv ?? []) {
      if (op.op === 'set') kvSet(db, agent, op.key, op.value, now);
      else kvDelete(db, agent, op.key);
    }
    for (const op of commit.facts ?? []) {
      if (op.op === 'add') result.factIds.push(addFact(db, agent, op.text, op.tags ?? [], now).id);
      else if (op.op === 'forget') result.forgotten += forgetFacts(db, agent, op.words);
      else if (forgetFact(db, agent, op.id)) result.forgotten += 1;
    }
    for (const message of commit.messages ?? []) appendMessage(db, agent, message);
    for (const peer of commit.peers ?? []) touchPeer(db, agent, peer.pubkey, peer.at, peer.trust);
    for (const op of commit.goals ?? []) {
      if (op.op === 'add') result.goalIds.push(addGoal(db, agent, op.text, op.dueAt, now).id);
      else setGoalStatus(db, agent, op.id, op.status, now);
    }
    for (const op of commit.schedules ?? []) {
      if (op.op === 'create') {
        result.scheduleIds.push(createSchedule(db, { agentIndex: agent, spec: op.spec, payload: op.payload, key: op.key, now }).record.id);
      } else {
        const target = op.op === 'delete' ? getSchedule(db, op.id) : getScheduleByKey(db, agent, op.key);
        if (target && target.agentIndex === agent) deleteSchedule(db, target.id);
      }
    }
    for (const entry of commit.outbox ?? []) result.outboxIds.push(enqueueOutbox(db, { ...entry, agentPubkey: record.pubkey, now }));
    if (commit.tick) appendTick(db, agent, commit.tick);
    if (commit.usage) result.usage = addUsage(db, agent, utcDay(now), commit.usage);
    if (commit.result) result.agent = recordTickResult(db, agent, { ...commit.result, at: now });
    result.storageBytes = result.agent?.storageBytes ?? storageBytes(db, agent);
    checkStorageLimit(agent, record.storageBytes, result.storageBytes, commit.storageLimitBytes);
    return result;
  })();
}
