/**
 * Agent-scoped views over the memory tables: each object holds one agent index and passes it to
 * every free function, so code handed `storage.kv(3)` cannot name agent 4's rows.
 */
import type { ConversationStore, FactStore, GoalStore, JsonValue, KvStore, PeerStore } from '../agent-types.js';
import { withStorageLimit } from './budget-store.js';
import { appendMessage, conversationHistory } from './conversation-store.js';
import { addFact, forgetFact, forgetFacts, getFact, listFacts, searchFacts } from './fact-store.js';
import { addGoal, listGoals, setGoalStatus } from './goal-store.js';
import { kvDelete, kvGet, kvList, kvSet } from './kv-store.js';
import { getPeer, listPeers, setPeerTrust, touchPeer } from './peer-store.js';
import type { Exec } from './sqlite-stores.js';

/** One agent's kv; each write is checked against `limit`. */
export function scopedKv(exec: Exec, agent: number, now: () => number, limit?: number): KvStore {
  return {
    get: <T = JsonValue>(key: string) => exec((db) => kvGet(db, agent, key) as T | undefined),
    set: (key, value) => exec((db) => withStorageLimit(db, agent, limit, () => kvSet(db, agent, key, value, now()))),
    delete: (key) => exec((db) => kvDelete(db, agent, key)),
    list: (prefix, options) => exec((db) => kvList(db, agent, prefix, options?.limit)),
  };
}

/** One agent's facts. */
export function scopedFacts(exec: Exec, agent: number, now: () => number): FactStore {
  return {
    add: (text, options) => exec((db) => addFact(db, agent, text, options?.tags ?? [], now())),
    search: (words, limit) => exec((db) => searchFacts(db, agent, words, limit)),
    forget: (words) => exec((db) => forgetFacts(db, agent, words)),
    forgetId: (id) => exec((db) => forgetFact(db, agent, id)),
    get: (id) => exec((db) => getFact(db, agent, id)),
    list: (options) => exec((db) => listFacts(db, agent, options?.limit)),
  };
}

/** One agent's conversations. */
export function scopedConversations(exec: Exec, agent: number): ConversationStore {
  return {
    append: (message) => exec((db) => appendMessage(db, agent, message)),
    history: (peer, limit) => exec((db) => conversationHistory(db, agent, peer, limit)),
  };
}

/** One agent's goals. */
export function scopedGoals(exec: Exec, agent: number, now: () => number): GoalStore {
  return {
    add: (text, options) => exec((db) => addGoal(db, agent, text, options?.dueAt, now())),
    setStatus: (id, status) => exec((db) => setGoalStatus(db, agent, id, status, now())),
    list: (filter) => exec((db) => listGoals(db, agent, filter?.status)),
  };
}

/** One agent's peers. */
export function scopedPeers(exec: Exec, agent: number): PeerStore {
  return {
    touch: (pubkey, at, options) => exec((db) => touchPeer(db, agent, pubkey, at, options?.trust)),
    setTrust: (pubkey, trust) => exec((db) => setPeerTrust(db, agent, pubkey, trust)),
    get: (pubkey) => exec((db) => getPeer(db, agent, pubkey)),
    list: (options) => exec((db) => listPeers(db, agent, options?.limit)),
  };
}
