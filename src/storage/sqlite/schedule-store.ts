/**
 * Schedules (alarms) as rows of a tagged union (`at | delayed | interval | cron`) with one wake
 * loop over `next_at`. Firing writes an 'alarm' inbox row and reschedules in one transaction; a
 * recurring alarm missed while the daemon was down fires once, then resumes its rhythm.
 */
import type { JsonValue } from '../agent-types.js';
import { StorageInputError } from '../errors.js';
import type { NewSchedule, ScheduleRecord, ScheduleSpec } from '../runtime-types.js';
import { firstRunAt, nextRunAt, parseScheduleSpec } from '../time.js';
import type { Db } from './database.js';
import { insertInbox } from './inbox-store.js';
import { all, get, parseJsonColumn, run, sql } from './query.js';

interface ScheduleRow {
  id: number;
  agent_index: number;
  spec_json: string;
  payload_json: string;
  key: string | null;
  next_at: number;
  created_at: number;
  last_fired_at: number | null;
  fire_count: number;
}

const COLUMNS = 'id, agent_index, spec_json, payload_json, key, next_at, created_at, last_fired_at, fire_count';
const INSERT = sql<[number, string, string, string, string | null, number, number]>(`
  INSERT INTO schedules (agent_index, type, spec_json, payload_json, key, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (agent_index, key) DO NOTHING`);
const BY_ID = sql<[number], ScheduleRow>(`SELECT ${COLUMNS} FROM schedules WHERE id = ?`);
const BY_KEY = sql<[number, string], ScheduleRow>(`SELECT ${COLUMNS} FROM schedules WHERE agent_index = ? AND key = ?`);
const BY_AGENT = sql<[number], ScheduleRow>(`SELECT ${COLUMNS} FROM schedules WHERE agent_index = ? ORDER BY next_at, id`);
const DELETE = sql<[number]>(`DELETE FROM schedules WHERE id = ?`);
const DELETE_AGENT = sql<[number]>(`DELETE FROM schedules WHERE agent_index = ?`);
const NEXT_DUE = sql<[], { at: number | null }>(`SELECT min(next_at) AS at FROM schedules`);
const DUE = sql<[number, number], ScheduleRow>(`SELECT ${COLUMNS} FROM schedules WHERE next_at <= ? ORDER BY next_at, id LIMIT ?`);
const DUE_HELD = sql<[number, string, number], ScheduleRow>(`SELECT ${COLUMNS} FROM schedules WHERE next_at <= ? AND agent_index IN (SELECT agent_index FROM agent_leases WHERE daemon_id = ?) ORDER BY next_at, id LIMIT ?`);
const NEXT_DUE_HELD = sql<[string], { at: number | null }>(`SELECT min(next_at) AS at FROM schedules WHERE agent_index IN (SELECT agent_index FROM agent_leases WHERE daemon_id = ?)`);
const FIRED = sql<[number, number, number]>(`UPDATE schedules SET next_at = ?, last_fired_at = ?, fire_count = fire_count + 1 WHERE id = ?`);

/** Creates a schedule; with a key, idempotent per agent (the existing row wins, `created` false). */
export function createSchedule(db: Db, schedule: NewSchedule): { record: ScheduleRecord; created: boolean } {
  const spec = parseScheduleSpec(schedule.spec);
  if (schedule.key !== undefined && (typeof schedule.key !== 'string' || schedule.key === '')) throw new StorageInputError('schedule key must be a non-empty string');
  const payload = JSON.stringify(schedule.payload ?? null);
  if (payload === undefined) throw new StorageInputError('schedule payload is not JSON-serializable');
  const nextAt = firstRunAt(spec, schedule.now);
  const result = run(db, INSERT, schedule.agentIndex, spec.type, JSON.stringify(spec), payload, schedule.key ?? null, nextAt, schedule.now);
  if (result.changes > 0) return { record: toRecord(get(db, BY_ID, Number(result.lastInsertRowid)) as ScheduleRow), created: true };
  return { record: toRecord(get(db, BY_KEY, schedule.agentIndex, schedule.key as string) as ScheduleRow), created: false };
}

/** One schedule by id. */
export function getSchedule(db: Db, id: number): ScheduleRecord | undefined {
  const row = get(db, BY_ID, id);
  return row ? toRecord(row) : undefined;
}

/** One agent's schedule by idempotency key. */
export function getScheduleByKey(db: Db, agentIndex: number, key: string): ScheduleRecord | undefined {
  const row = get(db, BY_KEY, agentIndex, key);
  return row ? toRecord(row) : undefined;
}

/** The agent's schedules, soonest first. */
export function listSchedules(db: Db, agentIndex: number): ScheduleRecord[] {
  return all(db, BY_AGENT, agentIndex).map(toRecord);
}

/** Deletes a schedule. */
export function deleteSchedule(db: Db, id: number): boolean {
  return run(db, DELETE, id).changes > 0;
}

/** Deletes every schedule of an agent (on terminate); returns how many. */
export function deleteAgentSchedules(db: Db, agentIndex: number): number {
  return run(db, DELETE_AGENT, agentIndex).changes;
}

/** The earliest next_at over every agent, so the wake loop sleeps exactly until then. */
export function nextScheduleDue(db: Db, holder?: string): number | undefined {
  return (holder === undefined ? get(db, NEXT_DUE) : get(db, NEXT_DUE_HELD, holder))?.at ?? undefined;
}

/** Schedules due at `now`, earliest first. */
export function dueSchedules(db: Db, now: number, limit = 100, holder?: string): ScheduleRecord[] {
  return (holder === undefined ? all(db, DUE, now, limit) : all(db, DUE_HELD, now, holder, limit)).map(toRecord);
}

/** Records a firing at `now`: one-shots are deleted (undefined), recurring ones move strictly past `now`. */
export function markScheduleFired(db: Db, id: number, now: number): ScheduleRecord | undefined {
  const row = get(db, BY_ID, id);
  if (!row) return undefined;
  const record = toRecord(row);
  const next = nextRunAt(record.spec, record.nextAt, now);
  if (next === undefined) {
    run(db, DELETE, id);
    return undefined;
  }
  run(db, FIRED, next, now, id);
  return toRecord(get(db, BY_ID, id) as ScheduleRow);
}

/** Fires every due schedule: each gets an 'alarm' inbox row (deduped by id + due time) and is rescheduled, atomically. */
export function fireDueSchedules(db: Db, now: number, limit = 100, holder?: string): Array<{ schedule: ScheduleRecord; inboxId: number; dueAt: number }> {
  return db.transaction(() =>
    dueSchedules(db, now, limit, holder).map((schedule) => {
      const dueAt = schedule.nextAt;
      const payload = { scheduleId: schedule.id, key: schedule.key ?? null, dueAt, payload: schedule.payload };
      const { id } = insertInbox(db, { agentIndex: schedule.agentIndex, trigger: 'alarm', dedupeKey: `alarm:${schedule.id}:${dueAt}`, payload, now });
      markScheduleFired(db, schedule.id, now);
      return { schedule, inboxId: id, dueAt };
    }),
  )();
}

function toRecord(row: ScheduleRow): ScheduleRecord {
  const record: ScheduleRecord = {
    id: row.id,
    agentIndex: row.agent_index,
    spec: parseJsonColumn<ScheduleSpec>(row.spec_json, 'schedules.spec_json'),
    payload: parseJsonColumn<JsonValue>(row.payload_json, 'schedules.payload_json'),
    nextAt: row.next_at,
    createdAt: row.created_at,
    fireCount: row.fire_count,
  };
  if (row.key !== null) record.key = row.key;
  if (row.last_fired_at !== null) record.lastFiredAt = row.last_fired_at;
  return record;
}
