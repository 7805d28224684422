/**
 * Export and import of one agent's memory on Postgres (the format is ../snapshot.ts, shared with
 * SQLite). Import replaces the memory in one unit, under the storage budget measured from zero.
 */
import { type AgentMemorySnapshot, parseAgentMemorySnapshot } from '../snapshot.js';
import { StorageBudgetExceededError } from '../errors.js';
import { storageBytes } from './agent-store.js';
import type { Ex } from './executor.js';
import { insertFact, listFacts } from './fact-store.js';
import { kvList } from './kv-store.js';
import { listGoals, listPeers } from './memory-stores.js';
import { insertSchedule, listSchedules } from './schedule-store.js';

/**
 * Everything the agent remembers, as a version-1 snapshot (messages in time order). The six reads
 * are issued together: outside a transaction they go out in one write on one connection (executor.ts,
 * TurnBatch) instead of six round trips one after the other.
 */
export async function exportAgentMemory(ex: Ex, agentIndex: number): Promise<AgentMemorySnapshot> {
  const [messages, kv, facts, goals, peers, schedules] = await Promise.all([
    ex.rows<{ peer: string; direction: 'in' | 'out'; text: string; event_id: string | null; at: number }>(
      `SELECT peer, direction, text, event_id, at FROM messages WHERE agent_index = $1 ORDER BY at, id`,
      [agentIndex],
    ),
    kvList(ex, agentIndex),
    listFacts(ex, agentIndex),
    listGoals(ex, agentIndex),
    listPeers(ex, agentIndex),
    listSchedules(ex, agentIndex),
  ]);
  return {
    version: 1,
    kv,
    facts: facts.reverse().map(({ text, tags, createdAt }) => ({ text, tags, createdAt })),
    goals: goals.map(({ id: _id, ...goal }) => goal),
    peers,
    messages: messages.map((m) => ({ peer: m.peer, direction: m.direction, text: m.text, ...(m.event_id !== null ? { eventId: m.event_id } : {}), at: m.at })),
    schedules: schedules.map((s) => ({ spec: s.spec, payload: s.payload, ...(s.key !== undefined ? { key: s.key } : {}), nextAt: s.nextAt, createdAt: s.createdAt })),
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
