/** Storage types of the agents registry and of each agent's memory (kv, facts, conversations, goals, peers). */

/** Every lifecycle state; the runtime re-exports this type (its transition table is in runtime/lifecycle.ts). */
export type AgentState = 'creating' | 'active' | 'dormant' | 'paused' | 'failed' | 'terminated';

/** One hosted agent. `index` is agent n (0-based); `account` = index + 1 (NIP-06 path). */
export interface AgentRecord {
  index: number;
  name: string;
  account: number;
  pubkey: string;
  /** 'echo' | 'assistant' | 'llm' | a module path. */
  behavior: string;
  state: AgentState;
  /** Runtime config (relays, policy, budgets, tools…): stored as given, validated by the caller. */
  config: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  lastTickAt?: number;
  ticks: number;
  failures: number;
  consecutiveFailures: number;
  lastError?: string;
  /** Running total of the agent's kv, facts, messages and goals bytes (UTF-8 keys + values). */
  storageBytes: number;
}

/** What `agents.create` needs. `pubkey` may be a function of the index the agent receives. */
export interface NewAgent {
  name: string;
  behavior: string;
  /** The agent's public key, or a (synchronous) derivation from its index: `(i) => derive(account i + 1)`. */
  pubkey: string | ((index: number) => string);
  config?: Record<string, unknown>;
  /** Default 'creating'. */
  state?: AgentState;
  /** A specific index (restore); default: the next free one (max + 1). */
  index?: number;
  now: number;
}

/** The agents registry. `ref` is a name or an index. */
export interface AgentRegistry {
  /** Creates an agent at the next index atomically; StorageConflictError if the name, index or pubkey is taken. */
  create(agent: NewAgent): Promise<AgentRecord>;
  get(ref: string | number): Promise<AgentRecord | undefined>;
  getByPubkey(pubkey: string): Promise<AgentRecord | undefined>;
  /** Every agent, by index. */
  list(filter?: { state?: AgentState }): Promise<AgentRecord[]>;
  /** Sets the state (the runtime checks the transition); `error` sets or clears lastError. StorageNotFoundError if absent. */
  updateState(ref: string | number, state: AgentState, options: { now: number; error?: string }): Promise<AgentRecord>;
  /** Replaces the stored config. */
  updateConfig(ref: string | number, config: Record<string, unknown>, now: number): Promise<AgentRecord>;
  /** Counts one finished tick: ok resets consecutiveFailures; a failure increments it and records the error. */
  recordTickResult(ref: string | number, result: TickResult): Promise<AgentRecord>;
}

/** A tick's result for the agent's counters. */
export interface TickResult {
  ok: boolean;
  error?: string;
  at: number;
}

/** A JSON value as stored in kv (anything JSON.stringify accepts). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** One agent's key-value store; it cannot name another agent's keys. */
export interface KvStore {
  get<T = JsonValue>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  /** True when the key existed. */
  delete(key: string): Promise<boolean>;
  /** Entries whose key starts with `prefix` (all when omitted), ordered by key. */
  list(prefix?: string, options?: { limit?: number }): Promise<Array<{ key: string; value: JsonValue }>>;
}

/** One stored fact. */
export interface Fact {
  id: number;
  text: string;
  tags: string[];
  createdAt: number;
}

/** One agent's facts, searchable with FTS5. */
export interface FactStore {
  add(text: string, options?: { tags?: string[] }): Promise<Fact>;
  /** Facts matching any of the words (stemmed), best first by bm25; `rank` is bm25 (lower is better). */
  search(words: string, limit?: number): Promise<Array<Fact & { rank: number }>>;
  /** Removes facts containing ALL the words; returns how many. Forgetting is deliberately conservative. */
  forget(words: string): Promise<number>;
  forgetId(id: number): Promise<boolean>;
  get(id: number): Promise<Fact | undefined>;
  /** Newest first. */
  list(options?: { limit?: number }): Promise<Fact[]>;
}

/** Which way a message went, from the agent's point of view. */
export type MessageDirection = 'in' | 'out';

/** One conversation message. `at` is ms. */
export interface ConversationMessage {
  id: number;
  peer: string;
  direction: MessageDirection;
  text: string;
  eventId?: string;
  at: number;
}

/** What appending a message takes. */
export type NewMessage = Omit<ConversationMessage, 'id'>;

/** One agent's conversations, per peer. */
export interface ConversationStore {
  append(message: NewMessage): Promise<number>;
  /** The last `limit` messages with `peer`, oldest first (newest last). */
  history(peer: string, limit?: number): Promise<ConversationMessage[]>;
}

/** A goal's status. */
export type GoalStatus = 'open' | 'done' | 'dropped';

/** One goal. */
export interface Goal {
  id: number;
  text: string;
  status: GoalStatus;
  dueAt?: number;
  createdAt: number;
  updatedAt: number;
}

/** One agent's goals. */
export interface GoalStore {
  add(text: string, options?: { dueAt?: number }): Promise<Goal>;
  /** False when no such goal belongs to this agent. */
  setStatus(id: number, status: GoalStatus): Promise<boolean>;
  list(filter?: { status?: GoalStatus }): Promise<Goal[]>;
}

/** How far the agent trusts a peer. */
export type PeerTrust = 'owner' | 'trusted' | 'known' | 'unknown' | 'blocked';

/** What the agent knows about a correspondent. */
export interface PeerRecord {
  pubkey: string;
  firstSeen: number;
  lastSeen: number;
  messageCount: number;
  trust: PeerTrust;
}

/** One agent's peers. */
export interface PeerStore {
  /** Records a message from/to the peer: creates it (first_seen), bumps last_seen and message_count; optionally sets trust. */
  touch(pubkey: string, at: number, options?: { trust?: PeerTrust }): Promise<PeerRecord>;
  setTrust(pubkey: string, trust: PeerTrust): Promise<boolean>;
  get(pubkey: string): Promise<PeerRecord | undefined>;
  /** Most recently seen first. */
  list(options?: { limit?: number }): Promise<PeerRecord[]>;
}

