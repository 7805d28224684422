/**
 * The agents registry: one row per hosted agent, keyed by its index n (NIP-06 account n + 1).
 * Creation takes the next index inside a write transaction, so two creators never collide.
 */
import type { AgentRecord, AgentState, NewAgent, TickResult } from '../agent-types.js';
import { StorageConflictError, StorageInputError, StorageNotFoundError } from '../errors.js';
import type { Db } from './database.js';
import { all, get, parseJsonColumn, run, sql } from './query.js';

interface AgentRow {
  agent_index: number;
  name: string;
  account: number;
  pubkey: string;
  behavior: string;
  state: AgentState;
  config_json: string;
  created_at: number;
  updated_at: number;
  last_tick_at: number | null;
  ticks: number;
  failures: number;
  consecutive_failures: number;
  last_error: string | null;
  storage_bytes: number;
}

const STATES: readonly AgentState[] = ['creating', 'active', 'dormant', 'paused', 'failed', 'terminated'];
/** Names are CLI arguments: letters, digits, `.`, `_`, `-`; never all digits (those are indexes). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const NEXT_INDEX = sql<[], { next: number }>(`SELECT coalesce(max(agent_index) + 1, 0) AS next FROM agents`);
const INSERT = sql<[number, string, number, string, string, string, string, number, number]>(`
  INSERT INTO agents (agent_index, name, account, pubkey, behavior, state, config_json, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
const BY_INDEX = sql<[number], AgentRow>(`SELECT * FROM agents WHERE agent_index = ?`);
const BY_NAME = sql<[string], AgentRow>(`SELECT * FROM agents WHERE name = ?`);
const BY_PUBKEY = sql<[string], AgentRow>(`SELECT * FROM agents WHERE pubkey = ?`);
const LIST = sql<[], AgentRow>(`SELECT * FROM agents ORDER BY agent_index`);
const LIST_STATE = sql<[string], AgentRow>(`SELECT * FROM agents WHERE state = ? ORDER BY agent_index`);
const SET_STATE = sql<[string, number, number, string | null, number]>(`
  UPDATE agents SET state = ?, updated_at = ?, last_error = CASE WHEN ? THEN ? ELSE last_error END WHERE agent_index = ?`);
const SET_CONFIG = sql<[string, number, number]>(`UPDATE agents SET config_json = ?, updated_at = ? WHERE agent_index = ?`);
const TICK_RESULT = sql<[number, number, number, number, string | null, number], AgentRow>(`
  UPDATE agents SET ticks = ticks + 1, last_tick_at = ?, updated_at = ?,
    failures = failures + ?, consecutive_failures = CASE WHEN ? THEN 0 ELSE consecutive_failures + 1 END,
    last_error = coalesce(?, last_error)
  WHERE agent_index = ? RETURNING *`);
const COMMIT_VIEW = sql<[number], { pubkey: string; storage_bytes: number }>(`SELECT pubkey, storage_bytes FROM agents WHERE agent_index = ?`);

/** Creates an agent at the next free index (or `agent.index`); StorageConflictError when the name, index or pubkey is taken. */
export function createAgent(db: Db, agent: NewAgent): AgentRecord {
  if (!NAME.test(agent.name) || /^\d+$/.test(agent.name)) {
    throw new StorageInputError(`agent name ${JSON.stringify(agent.name)} is invalid: use 1-64 letters, digits, ".", "_" or "-", not only digits`);
  }
  if (agent.behavior.trim() === '') throw new StorageInputError('agent behavior must not be empty');
  const state = agent.state ?? 'creating';
  if (!STATES.includes(state)) throw new StorageInputError(`agent state ${JSON.stringify(state)} is not one of ${STATES.join(', ')}`);
  return db.transaction((): AgentRecord => {
    if (get(db, BY_NAME, agent.name)) throw new StorageConflictError(`an agent named "${agent.name}" already exists`);
    const index = agent.index ?? (get(db, NEXT_INDEX)?.next ?? 0);
    if (!Number.isInteger(index) || index < 0) throw new StorageInputError(`agent index must be a non-negative integer, got ${index}`);
    if (get(db, BY_INDEX, index)) throw new StorageConflictError(`agent index ${index} is already taken`);
    const pubkey = typeof agent.pubkey === 'function' ? agent.pubkey(index) : agent.pubkey;
    if (!/^[0-9a-f]{64}$/.test(pubkey)) throw new StorageInputError('agent pubkey must be 64-char lowercase hex');
    const other = get(db, BY_PUBKEY, pubkey);
    if (other) throw new StorageConflictError(`pubkey already belongs to agent "${other.name}" (index ${other.agent_index})`);
    run(db, INSERT, index, agent.name, index + 1, pubkey, agent.behavior, state, JSON.stringify(agent.config ?? {}), agent.now, agent.now);
    return toRecord(get(db, BY_INDEX, index) as AgentRow);
  }).immediate();
}

/** An agent by index (number) or name (string). */
export function getAgent(db: Db, ref: string | number): AgentRecord | undefined {
  const row = typeof ref === 'number' ? get(db, BY_INDEX, ref) : get(db, BY_NAME, ref);
  return row ? toRecord(row) : undefined;
}

/** Like getAgent, but StorageNotFoundError when absent. */
export function requireAgent(db: Db, ref: string | number): AgentRecord {
  const agent = getAgent(db, ref);
  if (!agent) throw new StorageNotFoundError(typeof ref === 'number' ? `no agent with index ${ref}` : `no agent named "${ref}"`);
  return agent;
}

/** An agent by its public key (hex). */
export function getAgentByPubkey(db: Db, pubkey: string): AgentRecord | undefined {
  const row = get(db, BY_PUBKEY, pubkey);
  return row ? toRecord(row) : undefined;
}

/** Every agent by index, optionally in one state. */
export function listAgents(db: Db, filter: { state?: AgentState } = {}): AgentRecord[] {
  return (filter.state ? all(db, LIST_STATE, filter.state) : all(db, LIST)).map(toRecord);
}

/** Sets the state; `error` (when the key is present) sets lastError. The runtime checks the transition. */
export function updateAgentState(db: Db, ref: string | number, state: AgentState, options: { now: number; error?: string }): AgentRecord {
  if (!STATES.includes(state)) throw new StorageInputError(`agent state ${JSON.stringify(state)} is not one of ${STATES.join(', ')}`);
  const agent = requireAgent(db, ref);
  const hasError = 'error' in options ? 1 : 0;
  run(db, SET_STATE, state, options.now, hasError, options.error ?? null, agent.index);
  return requireAgent(db, agent.index);
}

/** Replaces the stored config (validated by the caller). */
export function updateAgentConfig(db: Db, ref: string | number, config: Record<string, unknown>, now: number): AgentRecord {
  const agent = requireAgent(db, ref);
  run(db, SET_CONFIG, JSON.stringify(config), now, agent.index);
  return requireAgent(db, agent.index);
}

/** Counts a finished tick; returns the record so the caller can compare consecutiveFailures with its limit. */
export function recordTickResult(db: Db, ref: string | number, result: TickResult): AgentRecord {
  const index = typeof ref === 'number' ? ref : requireAgent(db, ref).index;
  const ok = result.ok ? 1 : 0;
  // RETURNING: the updated row in the same statement (a commit used to read the row twice more for it).
  const row = get(db, TICK_RESULT, result.at, result.at, 1 - ok, ok, result.ok ? null : (result.error ?? 'tick failed'), index);
  if (!row) throw new StorageNotFoundError(`no agent with index ${index}`);
  return toRecord(row);
}

/**
 * What a tick's commit needs of the agent row: its pubkey (the outbox rows' signer) and stored
 * bytes (the storage limit's "before"), without the config JSON that a full record parses.
 */
export function requireCommitView(db: Db, index: number): { pubkey: string; storageBytes: number } {
  const row = get(db, COMMIT_VIEW, index);
  if (!row) throw new StorageNotFoundError(`no agent with index ${index}`);
  return { pubkey: row.pubkey, storageBytes: row.storage_bytes };
}

function toRecord(row: AgentRow): AgentRecord {
  const record: AgentRecord = {
    index: row.agent_index,
    name: row.name,
    account: row.account,
    pubkey: row.pubkey,
    behavior: row.behavior,
    state: row.state,
    config: parseJsonColumn<Record<string, unknown>>(row.config_json, 'agents.config_json'),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ticks: row.ticks,
    failures: row.failures,
    consecutiveFailures: row.consecutive_failures,
    storageBytes: row.storage_bytes,
  };
  if (row.last_tick_at !== null) record.lastTickAt = row.last_tick_at;
  if (row.last_error !== null) record.lastError = row.last_error;
  return record;
}
