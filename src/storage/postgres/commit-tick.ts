/**
 * commitTick on Postgres: THE exactly-once primitive, one transaction applying a tick's buffered
 * effects in TickCommit's order. The consumed trigger goes first, as `UPDATE … WHERE status =
 * 'pending'`: a second commit of the same trigger — from a retry after a lost connection, or
 * another process — finds it finished and fails with StorageConflictError, writing nothing.
 *
 * The statements are sent pipelined (connection.ts): each is issued without waiting for the one
 * before, in TickCommit's order, and the server runs them in that order; the commit waits once for
 * all of them (one loopback round trip for an echo tick's commit instead of ~10). Checks that
 * used to stop the commit before its writes (the lease, the trigger, the agent row) are now read
 * from the first statements' results and throw before the transaction commits, so it rolls back
 * whole: nothing is written either way. Errors are reported in issue order, so the first failure
 * is the one thrown, not the "transaction is aborted" of the statements behind it. The fact, goal
 * and schedule ops (several statements, results read by the next) wait for the checks and run one
 * by one, as before.
 */
import { LeaseLostError, StorageBudgetExceededError, StorageConflictError, StorageInputError } from '../errors.js';
import type { AgentRecord, TickCommit, TickCommitResult } from '../types.js';
import { utcDay } from '../time.js';
import { fencedAgent, notFound, recordTickResult, requireAgent, storageBytes } from './agent-store.js';
import { addUsage } from './budget-store.js';
import type { Ex } from './executor.js';
import { addFact, forgetFact, forgetFacts } from './fact-store.js';
import { kvDelete, kvSet } from './kv-store.js';
import { addGoal, appendMessages, setGoalStatus, touchPeer } from './memory-stores.js';
import { enqueueAgentOutbox } from './outbox-store.js';
import { createSchedule, deleteSchedule, getSchedule, getScheduleByKey } from './schedule-store.js';
import { appendTick } from './tick-store.js';

/** Statements in flight on one transaction, settled together; the first failure in issue order wins. */
class Pipeline {
  readonly #sent: Array<Promise<unknown>> = [];

  /** Takes a statement already sent; its failure is thrown by `settle`. */
  add(statement: Promise<unknown>): void {
    statement.catch(() => undefined);
    this.#sent.push(statement);
  }

  async settle(): Promise<void> {
    const results = await Promise.allSettled(this.#sent.splice(0));
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  }
}

/**
 * Finishes the consumed trigger and says why when it could not, in one statement: the outer SELECT
 * sees the row as it was before the UPDATE (a data-modifying WITH), so no second read is needed —
 * a second read could not run anyway once a later pipelined statement has aborted the transaction.
 */
async function finishTrigger(tx: Ex, agent: number, inbox: NonNullable<TickCommit['inbox']>, now: number): Promise<void> {
  const reason = inbox.status === 'done' ? null : inbox.reason;
  const row = await tx.one<{ finished: number; agent_index: number | null; status: string | null }>(
    `WITH done AS (UPDATE inbox SET status = $1, reason = $2, updated_at = $3 WHERE id = $4 AND agent_index = $5 AND status = 'pending' RETURNING 1)
     SELECT (SELECT count(*) FROM done) AS finished, i.agent_index, i.status FROM (VALUES (1)) AS one (x) LEFT JOIN inbox i ON i.id = $4`,
    [inbox.status, reason, now, inbox.id, agent],
  );
  if (row && row.finished > 0) return;
  if (!row || row.agent_index !== agent) throw new StorageInputError(`inbox row ${inbox.id} does not belong to agent ${agent}`);
  throw new StorageConflictError(`inbox row ${inbox.id} is already ${row.status}; the tick's effects were not applied again`);
}

/** The agent row, after the lease check when there is a fence (one statement either way). */
async function checkedAgent(tx: Ex, commit: TickCommit): Promise<AgentRecord> {
  const agent = commit.agentIndex;
  if (!commit.fence) return requireAgent(tx, agent);
  // The lease first, locked FOR SHARE: a claim cannot slip in before this commit ends.
  const fenced = commit.fence.agentIndex === agent ? await fencedAgent(tx, commit.fence) : { held: false };
  if (!fenced.held) throw new LeaseLostError(agent, commit.fence.daemonId, commit.fence.epoch);
  if (!fenced.agent) throw notFound(agent);
  return fenced.agent;
}

/** Applies a tick's effects atomically; throws (writing nothing) on bad input, budget or an already-handled trigger. */
export function commitTick(ex: Ex, commit: TickCommit): Promise<TickCommitResult> {
  const { agentIndex: agent, now } = commit;
  return ex.unit(async (tx) => {
    const sent = new Pipeline();
    const record = checkedAgent(tx, commit);
    sent.add(record);
    const result: TickCommitResult = { factIds: [], forgotten: 0, goalIds: [], scheduleIds: [], outboxIds: [], storageBytes: 0 };

    if (commit.inbox) sent.add(finishTrigger(tx, agent, commit.inbox, now));
    for (const op of commit.kv ?? []) sent.add(op.op === 'set' ? kvSet(tx, agent, op.key, op.value, now) : kvDelete(tx, agent, op.key));
    if ((commit.facts?.length ?? 0) > 0 || (commit.goals?.length ?? 0) > 0 || (commit.schedules?.length ?? 0) > 0) {
      // Multi-statement ops: the checks above first (nothing of theirs runs for a lost lease or a handled trigger).
      await sent.settle();
      await sequentialOps(tx, commit, result);
    }
    sent.add(appendMessages(tx, agent, commit.messages ?? []));
    for (const peer of commit.peers ?? []) sent.add(touchPeer(tx, agent, peer.pubkey, peer.at, peer.trust));
    sent.add(enqueueAgentOutbox(tx, agent, (commit.outbox ?? []).map((entry) => ({ ...entry, now }))).then((ids) => void (result.outboxIds = ids)));
    if (commit.tick) sent.add(appendTick(tx, agent, commit.tick));
    if (commit.usage) sent.add(addUsage(tx, agent, utcDay(now), commit.usage).then((usage) => void (result.usage = usage)));
    if (commit.result) sent.add(recordTickResult(tx, agent, { ...commit.result, at: now }).then((row) => void (result.agent = row)));
    else sent.add(storageBytes(tx, agent).then((bytes) => void (result.storageBytes = bytes)));
    await sent.settle();

    const before = (await record).storageBytes;
    if (result.agent) result.storageBytes = result.agent.storageBytes;
    const limit = commit.storageLimitBytes;
    if (limit !== undefined && result.storageBytes > limit && result.storageBytes > before) {
      throw new StorageBudgetExceededError(agent, result.storageBytes, limit);
    }
    return result;
  });
}

/** Facts, goals and schedules, one statement after another (ids and lookups feed the next). */
async function sequentialOps(tx: Ex, commit: TickCommit, result: TickCommitResult): Promise<void> {
  const { agentIndex: agent, now } = commit;
  for (const op of commit.facts ?? []) {
    if (op.op === 'add') result.factIds.push((await addFact(tx, agent, op.text, op.tags ?? [], now)).id);
    else if (op.op === 'forget') result.forgotten += await forgetFacts(tx, agent, op.words);
    else if (await forgetFact(tx, agent, op.id)) result.forgotten += 1;
  }
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
}
