/**
 * Export and import of one agent's memory (see ../snapshot.ts). Import replaces the agent's
 * memory in one transaction, under its storage budget; schedules keep their next time, so an
 * alarm that came due while the agent was away fires once after the restore.
 */
import type { JsonValue } from '../agent-types.js';
import { type AgentMemorySnapshot, parseAgentMemorySnapshot } from '../snapshot.js';
import { withStorageLimit } from './budget-store.js';
import { conversationHistory } from './conversation-store.js';
import type { Db } from './database.js';
import { listFacts } from './fact-store.js';
import { listGoals } from './goal-store.js';
import { kvList } from './kv-store.js';
import { listPeers } from './peer-store.js';
import { all, run, sql } from './query.js';
import { listSchedules } from './schedule-store.js';

const PEERS_OF = sql<[number], { peer: string }>(`SELECT DISTINCT peer FROM messages WHERE agent_index = ?`);
const CLEAR = ['kv', 'facts', 'goals', 'peers', 'messages', 'schedules'].map((t) => sql<[number]>(`DELETE FROM ${t} WHERE agent_index = ?`));
const KV = sql<[number, string, string, number]>(`INSERT INTO kv (agent_index, key, value_json, updated_at) VALUES (?, ?, ?, ?)`);
const FACT = sql<[number, string, string, number]>(`INSERT INTO facts (agent_index, text, tags_json, created_at) VALUES (?, ?, ?, ?)`);
const GOAL = sql<[number, string, string, number | null, number, number]>(`
  INSERT INTO goals (agent_index, text, status, due_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`);
const PEER = sql<[number, string, number, number, number, string]>(`
  INSERT INTO peers (agent_index, pubkey, first_seen, last_seen, message_count, trust) VALUES (?, ?, ?, ?, ?, ?)`);
const MESSAGE = sql<[number, string, string, string, string | null, number]>(`
  INSERT INTO messages (agent_index, peer, direction, text, event_id, at) VALUES (?, ?, ?, ?, ?, ?)`);
const SCHEDULE = sql<[number, string, string, string, string | null, number, number]>(`
  INSERT INTO schedules (agent_index, type, spec_json, payload_json, key, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`);

/** Everything the agent remembers, as a version-1 snapshot. */
export function exportAgentMemory(db: Db, agentIndex: number): AgentMemorySnapshot {
  const messages = all(db, PEERS_OF, agentIndex).flatMap(({ peer }) => conversationHistory(db, agentIndex, peer, -1));
  messages.sort((a, b) => a.at - b.at || a.id - b.id);
  return {
    version: 1,
    kv: kvList(db, agentIndex),
    facts: listFacts(db, agentIndex).reverse().map(({ text, tags, createdAt }) => ({ text, tags, createdAt })),
    goals: listGoals(db, agentIndex).map(({ id: _id, ...goal }) => goal),
    peers: listPeers(db, agentIndex),
    messages: messages.map(({ id: _id, ...message }) => message),
    schedules: listSchedules(db, agentIndex).map((s) => ({ spec: s.spec, payload: s.payload, ...(s.key !== undefined ? { key: s.key } : {}), nextAt: s.nextAt, createdAt: s.createdAt })),
  };
}

/** Replaces the agent's memory with an (untrusted) snapshot, atomically and within `storageLimitBytes`. */
export function importAgentMemory(db: Db, agentIndex: number, input: unknown, now: number, storageLimitBytes?: number): AgentMemorySnapshot {
  const snap = parseAgentMemorySnapshot(input);
  // Clearing first means "would grow past the limit" is measured from zero, as for a fresh agent.
  return db.transaction(() => {
    for (const clear of CLEAR) run(db, clear, agentIndex);
    return withStorageLimit(db, agentIndex, storageLimitBytes, () => {
      for (const { key, value } of snap.kv) run(db, KV, agentIndex, key, JSON.stringify(value satisfies JsonValue), now);
      for (const f of snap.facts) run(db, FACT, agentIndex, f.text, JSON.stringify(f.tags), f.createdAt);
      for (const g of snap.goals) run(db, GOAL, agentIndex, g.text, g.status, g.dueAt ?? null, g.createdAt, g.updatedAt);
      for (const p of snap.peers) run(db, PEER, agentIndex, p.pubkey, p.firstSeen, p.lastSeen, p.messageCount, p.trust);
      for (const m of snap.messages) run(db, MESSAGE, agentIndex, m.peer, m.direction, m.text, m.eventId ?? null, m.at);
      for (const s of snap.schedules) run(db, SCHEDULE, agentIndex, s.spec.type, JSON.stringify(s.spec), JSON.stringify(s.payload), s.key ?? null, s.nextAt, s.createdAt);
      return snap;
    });
  })();
}
