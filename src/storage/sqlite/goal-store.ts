/** Goals: what an agent is working towards, with a status it updates as it goes. */
import type { Goal, GoalStatus } from '../agent-types.js';
import { StorageInputError } from '../errors.js';
import type { Db } from './database.js';
import { all, run, sql } from './query.js';

interface GoalRow {
  id: number;
  text: string;
  status: GoalStatus;
  due_at: number | null;
  created_at: number;
  updated_at: number;
}

const STATUSES: readonly GoalStatus[] = ['open', 'done', 'dropped'];
const INSERT = sql<[number, string, number | null, number, number]>(`
  INSERT INTO goals (agent_index, text, due_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`);
const SET_STATUS = sql<[string, number, number, number]>(`UPDATE goals SET status = ?, updated_at = ? WHERE agent_index = ? AND id = ?`);
const LIST = sql<[number], GoalRow>(`SELECT * FROM goals WHERE agent_index = ? ORDER BY id`);
const LIST_STATUS = sql<[number, string], GoalRow>(`SELECT * FROM goals WHERE agent_index = ? AND status = ? ORDER BY id`);

/** Adds an open goal. */
export function addGoal(db: Db, agentIndex: number, text: string, dueAt: number | undefined, now: number): Goal {
  const clean = text.trim();
  if (clean === '') throw new StorageInputError('a goal must not be empty');
  const id = Number(run(db, INSERT, agentIndex, clean, dueAt ?? null, now, now).lastInsertRowid);
  const goal: Goal = { id, text: clean, status: 'open', createdAt: now, updatedAt: now };
  if (dueAt !== undefined) goal.dueAt = dueAt;
  return goal;
}

/** Sets a goal's status; false when the agent has no such goal. */
export function setGoalStatus(db: Db, agentIndex: number, id: number, status: GoalStatus, now: number): boolean {
  if (!STATUSES.includes(status)) throw new StorageInputError(`goal status must be one of ${STATUSES.join(', ')}, got ${JSON.stringify(status)}`);
  return run(db, SET_STATUS, status, now, agentIndex, id).changes > 0;
}

/** The agent's goals in creation order, optionally of one status. */
export function listGoals(db: Db, agentIndex: number, status?: GoalStatus): Goal[] {
  const rows = status ? all(db, LIST_STATUS, agentIndex, status) : all(db, LIST, agentIndex);
  return rows.map((r) => {
    const goal: Goal = { id: r.id, text: r.text, status: r.status, createdAt: r.created_at, updatedAt: r.updated_at };
    if (r.due_at !== null) goal.dueAt = r.due_at;
    return goal;
  });
}
