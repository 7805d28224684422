/**
 * Agent-scoped views over the memory tables: each object holds one agent index and passes it to
 * every free function, so code handed `storage.kv(3)` cannot name agent 4's rows.
 */
import type { ConversationStore, FactStore, GoalStore, JsonValue, KvStore, PeerStore } from '../agent-types.js';
import type { Db } from './database.js';
import { withStorageLimit } from './budget-store.js';
import { appendMessage, conversationHistory } from './conversation-store.js';
import { addFact, forgetFact, forgetFacts, getFact, listFacts, searchFacts } from './fact-store.js';
import { addGoal, listGoals, setGoalStatus } from './goal-store.js';
import { kvDelete, kvGet, kvList, kvSet } from './kv-store.js';
import { getPeer, listPeers, setPeerTrust, touchPeer } from './peer-store.js';

/** One agent's kv; writes outside a transaction are checked against `limit` one by one. */
export function scopedKv(db: Db, agent: number, now: () => number, limit?: number): KvStore {
  const store: KvStore = {
    get: <T = JsonValue>(key: string) => kvGet(db, agent, key) as T | undefined,
    set: (key, value) => withStorageLimit(db, agent, limit, () => kvSet(db, agent, key, value, now())),
    delete: (key) => kvDelete(db, agent, key),
    list: (prefix, options) => kvList(db, agent, prefix, options?.limit),
    transaction: (fn) => withStorageLimit(db, agent, limit, () => fn(store)),
  };
  return store;
}

/** One agent's facts. */
export function scopedFacts(db: Db, agent: number, now: () => number): FactStore {
  return {
    add: (text, options) => addFact(db, agent, text, options?.tags ?? [], now()),
    search: (words, limit) => searchFacts(db, agent, words, limit),
    forget: (words) => forgetFacts(db, agent, words),
    forgetId: (id) => forgetFact(db, agent, id),
    get: (id) => getFact(db, agent, id),
    list: (options) => listFacts(db, agent, options?.limit),
  };
}

/** One agent's conversations. */
export function scopedConversations(db: Db, agent: number): ConversationStore {
  return {
    append: (message) => appendMessage(db, agent, message),
    history: (peer, limit) => conversationHistory(db, agent, peer, limit),
  };
}

/** One agent's goals. */
export function scopedGoals(db: Db, agent: number, now: () => number): GoalStore {
  return {
    add: (text, options) => addGoal(db, agent, text, options?.dueAt, now()),
    setStatus: (id, status) => setGoalStatus(db, agent, id, status, now()),
    list: (filter) => listGoals(db, agent, filter?.status),
  };
}

/** One agent's peers. */
export function scopedPeers(db: Db, agent: number): PeerStore {
  return {
    touch: (pubkey, at, options) => touchPeer(db, agent, pubkey, at, options?.trust),
    setTrust: (pubkey, trust) => setPeerTrust(db, agent, pubkey, trust),
    get: (pubkey) => getPeer(db, agent, pubkey),
    list: (options) => listPeers(db, agent, options?.limit),
  };
}
