/**
 * commitTick on Postgres: THE exactly-once primitive, one transaction applying a tick's buffered
 * effects in TickCommit's order. The consumed trigger goes first, as `UPDATE … WHERE status =
 * 'pending'`: a second commit of the same trigger — from a retry after a lost connection, or
 * another process — finds it finished and fails with StorageConflictError, writing nothing.
 */
import { LeaseLostError, StorageBudgetExceededError, StorageConflictError, StorageInputError } from '../errors.js';
import type { TickCommit, TickCommitResult } from '../types.js';
import { utcDay } from '../time.js';
import { fencedAgent, recordTickResult, requireAgent, storageBytes } from './agent-store.js';
import { addUsage } from './budget-store.js';
import type { Ex } from './executor.js';
import { addFact, forgetFact, forgetFacts } from './fact-store.js';
import { getInbox } from './inbox-store.js';
import { kvDelete, kvSet } from './kv-store.js';
import { addGoal, appendMessages, setGoalStatus, touchPeer } from './memory-stores.js';
import { enqueueOutboxMany } from './outbox-store.js';
import { createSchedule, deleteSchedule, getSchedule, getScheduleByKey } from './schedule-store.js';
import { appendTick } from './tick-store.js';

/** Applies a tick's effects atomically; throws (writing nothing) on bad input, budget or an already-handled trigger. */
export function commitTick(ex: Ex, commit: TickCommit): Promise<TickCommitResult> {
  const { agentIndex: agent, now } = commit;
  return ex.unit(async (tx) => {
    // The lease first, locked FOR SHARE: a claim cannot slip in before this commit ends. With a
    // fence, the check and the agent row are one statement (one round trip fewer per tick).
    let record;
    if (commit.fence) {
      const fenced = commit.fence.agentIndex === agent ? await fencedAgent(tx, commit.fence) : { held: false };
      if (!fenced.held) throw new LeaseLostError(agent, commit.fence.daemonId, commit.fence.epoch);
      record = fenced.agent ?? (await requireAgent(tx, agent));
    } else {
      record = await requireAgent(tx, agent);
    }
    const before = record.storageBytes;
    const result: TickCommitResult = { factIds: [], forgotten: 0, goalIds: [], scheduleIds: [], outboxIds: [], storageBytes: 0 };

    if (commit.inbox) {
      const reason = commit.inbox.status === 'done' ? null : commit.inbox.reason;
      const finished = await tx.count(
        `UPDATE inbox SET status = $1, reason = $2, updated_at = $3 WHERE id = $4 AND agent_index = $5 AND status = 'pending'`,
        [commit.inbox.status, reason, now, commit.inbox.id, agent],
      );
      if (finished === 0) {
        const row = await getInbox(tx, commit.inbox.id);
        if (!row || row.agentIndex !== agent) throw new StorageInputError(`inbox row ${commit.inbox.id} does not belong to agent ${agent}`);
        throw new StorageConflictError(`inbox row ${commit.inbox.id} is already ${row.status}; the tick's effects were not applied again`);
      }
    }
    for (const op of commit.kv ?? []) {
      if (op.op === 'set') await kvSet(tx, agent, op.key, op.value, now);
      else await kvDelete(tx, agent, op.key);
    }
    for (const op of commit.facts ?? []) {
      if (op.op === 'add') result.factIds.push((await addFact(tx, agent, op.text, op.tags ?? [], now)).id);
      else if (op.op === 'forget') result.forgotten += await forgetFacts(tx, agent, op.words);
      else if (await forgetFact(tx, agent, op.id)) result.forgotten += 1;
    }
    await appendMessages(tx, agent, commit.messages ?? []);
    for (const peer of commit.peers ?? []) await touchPeer(tx, agent, peer.pubkey, peer.at, peer.trust);
    for (const op of commit.goals ?? []) {
      if (op.op === 'add') result.goalIds.push((await addGoal(tx, agent, op.text, op.dueAt, now)).id);
      else await setGoalStatus(tx, agent, op.id, op.status, now);
    }
    for (const op of commit.schedules ?? []) {
      if (op.op === 'create') {
        result.scheduleIds.push((await createSchedule(tx, { agentIndex: agent, spec: op.spec, payload: op.payload, key: op.key, now })).record.id);
      } else {
        const target = op.op === 'delete' ? await getSchedule(tx, op.id) : await getScheduleByKey(tx, agent, op.key);
        if (target && target.agentIndex === agent) await deleteSchedule(tx, target.id);
      }
    }
    result.outboxIds = await enqueueOutboxMany(tx, (commit.outbox ?? []).map((entry) => ({ ...entry, agentPubkey: record.pubkey, now })));
    if (commit.tick) await appendTick(tx, agent, commit.tick);
    if (commit.usage) result.usage = await addUsage(tx, agent, utcDay(now), commit.usage);
    if (commit.result) result.agent = await recordTickResult(tx, agent, { ...commit.result, at: now });
    result.storageBytes = result.agent ? result.agent.storageBytes : await storageBytes(tx, agent);
    const limit = commit.storageLimitBytes;
    if (limit !== undefined && result.storageBytes > limit && result.storageBytes > before) {
      throw new StorageBudgetExceededError(agent, result.storageBytes, limit);
    }
    return result;
  });
}
