/**
 * Export and import of one agent's memory on Postgres (the format is ../snapshot.ts, shared with
 * SQLite). Import replaces the memory in one unit, under the storage budget measured from zero.
 */
import { type AgentMemorySnapshot, parseAgentMemorySnapshot } from '../snapshot.js';
import { StorageBudgetExceededError } from '../errors.js';
import { storageBytes } from './agent-store.js';
import type { Ex } from './executor.js';
import { type FactRow, insertFact, toFact } from './fact-store.js';
import { toKvEntry } from './kv-store.js';
import { type GoalRow, type PeerRow, toGoal, toPeer } from './memory-stores.js';
import { insertSchedule, SCHEDULE_COLUMNS, type ScheduleRow, toRecord } from './schedule-store.js';

/** The rows of `select` (the agent is $1) as one JSON array of row objects, in `order` (over `r`). */
const rowsAsJson = (select: string, order: string): string => `(SELECT coalesce(json_agg(r ORDER BY ${order}), '[]') FROM (${select}) AS r)`;

/**
 * The agent's whole memory in ONE statement: each table's rows as a JSON array of row objects
 * (json_agg, in the order the list reads use), so a snapshot costs the daemon and the server one
 * statement instead of six. Row objects have the columns' names, BIGINT as JSON numbers (as the
 * pool's int8 parser reads them): the stores' own row mappers read them.
 */
const EXPORT = `SELECT
  ${rowsAsJson('SELECT id, peer, direction, text, event_id, at FROM messages WHERE agent_index = $1', 'r.at, r.id')} AS messages,
  ${rowsAsJson('SELECT key, value_json FROM kv WHERE agent_index = $1', 'r.key')} AS kv,
  ${rowsAsJson('SELECT id, text, tags_json, created_at FROM facts WHERE agent_index = $1', 'r.id')} AS facts,
  ${rowsAsJson('SELECT id, text, status, due_at, created_at, updated_at FROM goals WHERE agent_index = $1', 'r.id')} AS goals,
  ${rowsAsJson('SELECT pubkey, first_seen, last_seen, message_count, trust FROM peers WHERE agent_index = $1', 'r.last_seen DESC, r.pubkey')} AS peers,
  ${rowsAsJson(`SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE agent_index = $1`, 'r.next_at, r.id')} AS schedules`;

interface ExportRow {
  messages: Array<{ peer: string; direction: 'in' | 'out'; text: string; event_id: string | null; at: number }>;
  kv: Array<{ key: string; value_json: string }>;
  facts: FactRow[];
  goals: GoalRow[];
  peers: PeerRow[];
  schedules: ScheduleRow[];
}

/** Everything the agent remembers, as a version-1 snapshot (messages in time order, facts oldest first). */
export async function exportAgentMemory(ex: Ex, agentIndex: number): Promise<AgentMemorySnapshot> {
  const row = (await ex.one<ExportRow>(EXPORT, [agentIndex]))!;
  return {
    version: 1,
    kv: row.kv.map(toKvEntry),
    facts: row.facts.map(toFact).map(({ text, tags, createdAt }) => ({ text, tags, createdAt })),
    goals: row.goals.map(toGoal).map(({ id: _id, ...goal }) => goal),
    peers: row.peers.map(toPeer),
    messages: row.messages.map((m) => ({ peer: m.peer, direction: m.direction, text: m.text, ...(m.event_id !== null ? { eventId: m.event_id } : {}), at: m.at })),
    schedules: row.schedules.map(toRecord).map((s) => ({ spec: s.spec, payload: s.payload, ...(s.key !== undefined ? { key: s.key } : {}), nextAt: s.nextAt, createdAt: s.createdAt })),
  };
}

/** Replaces the agent's memory with an (untrusted) snapshot, atomically and within `storageLimitBytes`. */
export async function importAgentMemory(ex: Ex, agentIndex: number, input: unknown, now: number, storageLimitBytes?: number): Promise<AgentMemorySnapshot> {
  const snap = parseAgentMemorySnapshot(input);
  return ex.unit(async (tx) => {
    for (const table of ['kv', 'facts', 'goals', 'peers', 'messages', 'schedules']) await tx.count(`DELETE FROM ${table} WHERE agent_index = $1`, [agentIndex]);
    const before = await storageBytes(tx, agentIndex);
    for (const { key, value } of snap.kv) {
      await tx.count(`INSERT INTO kv (agent_index, key, value_json, updated_at) VALUES ($1, $2, $3, $4)`, [agentIndex, key, JSON.stringify(value), now]);
    }
    for (const f of snap.facts) await insertFact(tx, agentIndex, f.text, f.tags, f.createdAt);
    for (const g of snap.goals) {
      await tx.count(`INSERT INTO goals (agent_index, text, status, due_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`, [agentIndex, g.text, g.status, g.dueAt ?? null, g.createdAt, g.updatedAt]);
    }
    for (const p of snap.peers) {
      await tx.count(`INSERT INTO peers (agent_index, pubkey, first_seen, last_seen, message_count, trust) VALUES ($1, $2, $3, $4, $5, $6)`, [agentIndex, p.pubkey, p.firstSeen, p.lastSeen, p.messageCount, p.trust]);
    }
    for (const m of snap.messages) {
      await tx.count(`INSERT INTO messages (agent_index, peer, direction, text, event_id, at) VALUES ($1, $2, $3, $4, $5, $6)`, [agentIndex, m.peer, m.direction, m.text, m.eventId ?? null, m.at]);
    }
    for (const s of snap.schedules) {
      await insertSchedule(tx, { agentIndex, spec: s.spec, payloadJson: JSON.stringify(s.payload), key: s.key ?? null, nextAt: s.nextAt, createdAt: s.createdAt });
    }
    const after = await storageBytes(tx, agentIndex);
    if (storageLimitBytes !== undefined && after > storageLimitBytes && after > before) throw new StorageBudgetExceededError(agentIndex, after, storageLimitBytes);
    return snap;
  });
}
