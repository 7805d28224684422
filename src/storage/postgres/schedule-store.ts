/**
 * Schedules (alarms) on Postgres: the same one-table wake loop as SQLite. `fireDue` queues an
 * 'alarm' inbox row (deduped by schedule id + due time) and reschedules, in one unit; the due rows
 * are locked (FOR UPDATE SKIP LOCKED) so two daemons on one database never fire one alarm twice.
 */
import type { JsonValue } from '../agent-types.js';
import { StorageInputError } from '../errors.js';
import type { NewSchedule, ScheduleRecord, ScheduleSpec } from '../runtime-types.js';
import { firstRunAt, nextRunAt, parseScheduleSpec } from '../time.js';
import type { Ex } from './executor.js';
import { insertInbox } from './inbox-store.js';
import { parseJsonColumn } from './json.js';

/** A schedules row as selected by SCHEDULE_COLUMNS. */
export interface ScheduleRow {
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

/** The columns every schedule read selects. */
export const SCHEDULE_COLUMNS = 'id, agent_index, spec_json, payload_json, key, next_at, created_at, last_fired_at, fire_count';

/** Inserts a schedule row as given (create and snapshot import); undefined when the key exists. */
export async function insertSchedule(
  ex: Ex,
  row: { agentIndex: number; spec: ScheduleSpec; payloadJson: string; key: string | null; nextAt: number; createdAt: number },
): Promise<ScheduleRecord | undefined> {
  const inserted = await ex.one<ScheduleRow>(
    `INSERT INTO schedules (agent_index, type, spec_json, payload_json, key, next_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (agent_index, key) DO NOTHING RETURNING ${SCHEDULE_COLUMNS}`,
    [row.agentIndex, row.spec.type, JSON.stringify(row.spec), row.payloadJson, row.key, row.nextAt, row.createdAt],
  );
  return inserted ? toRecord(inserted) : undefined;
}

/** Creates a schedule; with a key, idempotent per agent (the existing row wins, `created` false). */
export async function createSchedule(ex: Ex, schedule: NewSchedule): Promise<{ record: ScheduleRecord; created: boolean }> {
  const spec = parseScheduleSpec(schedule.spec);
  if (schedule.key !== undefined && (typeof schedule.key !== 'string' || schedule.key === '')) throw new StorageInputError('schedule key must be a non-empty string');
  const payload = JSON.stringify(schedule.payload ?? null);
  if (payload === undefined) throw new StorageInputError('schedule payload is not JSON-serializable');
  const nextAt = firstRunAt(spec, schedule.now);
  const record = await insertSchedule(ex, { agentIndex: schedule.agentIndex, spec, payloadJson: payload, key: schedule.key ?? null, nextAt, createdAt: schedule.now });
  if (record) return { record, created: true };
  const existing = await getScheduleByKey(ex, schedule.agentIndex, schedule.key as string);
  if (!existing) throw new Error(`schedule insert for agent ${schedule.agentIndex} left no row`);
  return { record: existing, created: false };
}

/** One schedule by id. */
export async function getSchedule(ex: Ex, id: number): Promise<ScheduleRecord | undefined> {
  const row = await ex.one<ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE id = $1`, [id]);
  return row ? toRecord(row) : undefined;
}

/** One agent's schedule by idempotency key. */
export async function getScheduleByKey(ex: Ex, agentIndex: number, key: string): Promise<ScheduleRecord | undefined> {
  const row = await ex.one<ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE agent_index = $1 AND key = $2`, [agentIndex, key]);
  return row ? toRecord(row) : undefined;
}

/** The agent's schedules, soonest first. */
export async function listSchedules(ex: Ex, agentIndex: number): Promise<ScheduleRecord[]> {
  return (await ex.rows<ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE agent_index = $1 ORDER BY next_at, id`, [agentIndex])).map(toRecord);
}

/** Deletes a schedule. */
export async function deleteSchedule(ex: Ex, id: number): Promise<boolean> {
  return (await ex.count(`DELETE FROM schedules WHERE id = $1`, [id])) > 0;
}

/** Deletes every schedule of an agent; returns how many. */
export async function deleteAgentSchedules(ex: Ex, agentIndex: number): Promise<number> {
  return ex.count(`DELETE FROM schedules WHERE agent_index = $1`, [agentIndex]);
}

/** The earliest next_at over every agent. */
export async function nextScheduleDue(ex: Ex, holder?: string): Promise<number | undefined> {
  if (holder !== undefined) {
    return (await ex.one<{ at: number | null }>(`SELECT min(next_at) AS at FROM schedules WHERE agent_index IN (SELECT agent_index FROM agent_leases WHERE daemon_id = $1)`, [holder]))?.at ?? undefined;
  }
  return (await ex.one<{ at: number | null }>(`SELECT min(next_at) AS at FROM schedules`))?.at ?? undefined;
}

/** Schedules due at `now`, earliest first. */
export async function dueSchedules(ex: Ex, now: number, limit = 100, lock = false, holder?: string): Promise<ScheduleRecord[]> {
  const held = holder !== undefined ? ' AND agent_index IN (SELECT agent_index FROM agent_leases WHERE daemon_id = $3)' : '';
  const rows = await ex.rows<ScheduleRow>(
    `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE next_at <= $1${held} ORDER BY next_at, id LIMIT $2${lock ? ' FOR UPDATE SKIP LOCKED' : ''}`,
    holder !== undefined ? [now, limit, holder] : [now, limit],
  );
  return rows.map(toRecord);
}

/** Records a firing at `now`: one-shots are deleted (undefined), recurring ones move strictly past `now`. */
export async function markScheduleFired(ex: Ex, id: number, now: number): Promise<ScheduleRecord | undefined> {
  const record = await getSchedule(ex, id);
  if (!record) return undefined;
  return fired(ex, record, now);
}

async function fired(ex: Ex, record: ScheduleRecord, now: number): Promise<ScheduleRecord | undefined> {
  const next = nextRunAt(record.spec, record.nextAt, now);
  if (next === undefined) {
    await deleteSchedule(ex, record.id);
    return undefined;
  }
  const row = await ex.one<ScheduleRow>(
    `UPDATE schedules SET next_at = $1, last_fired_at = $2, fire_count = fire_count + 1 WHERE id = $3 RETURNING ${SCHEDULE_COLUMNS}`,
    [next, now, record.id],
  );
  return row ? toRecord(row) : undefined;
}

/** Fires every due schedule: an 'alarm' inbox row each (deduped by id + due time) and rescheduled, atomically. */
export async function fireDueSchedules(ex: Ex, now: number, limit = 100, holder?: string): Promise<Array<{ schedule: ScheduleRecord; inboxId: number; dueAt: number }>> {
  return ex.unit(async (tx) => {
    const out: Array<{ schedule: ScheduleRecord; inboxId: number; dueAt: number }> = [];
    for (const schedule of await dueSchedules(tx, now, limit, true, holder)) {
      const dueAt = schedule.nextAt;
      const payload = { scheduleId: schedule.id, key: schedule.key ?? null, dueAt, payload: schedule.payload };
      const { id } = await insertInbox(tx, { agentIndex: schedule.agentIndex, trigger: 'alarm', dedupeKey: `alarm:${schedule.id}:${dueAt}`, payload, now });
      await fired(tx, schedule, now);
      out.push({ schedule, inboxId: id, dueAt });
    }
    return out;
  });
}

/** A schedule record from its row. */
export function toRecord(row: ScheduleRow): ScheduleRecord {
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
