/**
 * The agents registry on Postgres (SQLite's agent-store.ts in Postgres SQL): one row per hosted
 * agent keyed by its index. Creation takes the next index inside a unit (units of one storage run
 * one at a time; the primary key and UNIQUE columns guard against another process).
 */
import type { AgentRecord, AgentState, NewAgent, TickResult } from '../agent-types.js';
import { StorageConflictError, StorageInputError, StorageNotFoundError } from '../errors.js';
import type { Fence } from '../lease-types.js';
import type { Ex } from './executor.js';
import { parseJsonColumn } from './json.js';

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
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Creates an agent at the next free index (or `agent.index`); StorageConflictError when the name, index or pubkey is taken. */
export async function createAgent(ex: Ex, agent: NewAgent): Promise<AgentRecord> {
  if (!NAME.test(agent.name) || /^\d+$/.test(agent.name)) {
    throw new StorageInputError(`agent name ${JSON.stringify(agent.name)} is invalid: use 1-64 letters, digits, ".", "_" or "-", not only digits`);
  }
  if (agent.behavior.trim() === '') throw new StorageInputError('agent behavior must not be empty');
  const state = agent.state ?? 'creating';
  if (!STATES.includes(state)) throw new StorageInputError(`agent state ${JSON.stringify(state)} is not one of ${STATES.join(', ')}`);
  return ex.unit(async (tx) => {
    if (await tx.one(`SELECT 1 FROM agents WHERE name = $1`, [agent.name])) throw new StorageConflictError(`an agent named "${agent.name}" already exists`);
    const index = agent.index ?? (await tx.one<{ next: number }>(`SELECT coalesce(max(agent_index) + 1, 0) AS next FROM agents`))?.next ?? 0;
    if (!Number.isInteger(index) || index < 0) throw new StorageInputError(`agent index must be a non-negative integer, got ${index}`);
    if (await tx.one(`SELECT 1 FROM agents WHERE agent_index = $1`, [index])) throw new StorageConflictError(`agent index ${index} is already taken`);
    const pubkey = typeof agent.pubkey === 'function' ? agent.pubkey(index) : agent.pubkey;
    if (!/^[0-9a-f]{64}$/.test(pubkey)) throw new StorageInputError('agent pubkey must be 64-char lowercase hex');
    const other = await tx.one<AgentRow>(`SELECT * FROM agents WHERE pubkey = $1`, [pubkey]);
    if (other) throw new StorageConflictError(`pubkey already belongs to agent "${other.name}" (index ${other.agent_index})`);
    const row = await tx.one<AgentRow>(
      `INSERT INTO agents (agent_index, name, account, pubkey, behavior, state, config_json, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT DO NOTHING RETURNING *`,
      [index, agent.name, index + 1, pubkey, agent.behavior, state, JSON.stringify(agent.config ?? {}), agent.now],
    );
    if (!row) throw new StorageConflictError(`agent index ${index}, name "${agent.name}" or its pubkey was taken meanwhile`);
    return toRecord(row);
  });
}

/** An agent by index (number) or name (string). */
export async function getAgent(ex: Ex, ref: string | number): Promise<AgentRecord | undefined> {
  const row = typeof ref === 'number'
    ? await ex.one<AgentRow>(`SELECT * FROM agents WHERE agent_index = $1`, [ref])
    : await ex.one<AgentRow>(`SELECT * FROM agents WHERE name = $1`, [ref]);
  return row ? toRecord(row) : undefined;
}

/** Like getAgent, but StorageNotFoundError when absent. */
export async function requireAgent(ex: Ex, ref: string | number): Promise<AgentRecord> {
  const agent = await getAgent(ex, ref);
  if (!agent) throw notFound(ref);
  return agent;
}

/**
 * The tick commit's first statement: checks the lease (locked FOR SHARE, so a claim cannot slip in
 * before the commit ends) and reads the agent row in one round trip instead of two. `held` false
 * means the lease is lost (checked before the row, as two statements did); `agent` undefined means
 * no such agent.
 */
export async function fencedAgent(ex: Ex, fence: Fence): Promise<{ held: boolean; agent?: AgentRecord }> {
  const row = await ex.one<AgentRow & { held: boolean }>(
    `WITH lease AS (SELECT 1 FROM agent_leases WHERE agent_index = $1 AND daemon_id = $2 AND epoch = $3 FOR SHARE)
     SELECT EXISTS (SELECT 1 FROM lease) AS held, a.* FROM (VALUES (1)) AS one (x) LEFT JOIN agents a ON a.agent_index = $1`,
    [fence.agentIndex, fence.daemonId, fence.epoch],
  );
  if (!row?.held) return { held: false };
  return row.agent_index === null ? { held: true } : { held: true, agent: toRecord(row) };
}

/** The StorageNotFoundError for an agent ref (commitTick throws it from a row it already read). */
export function notFound(ref: string | number): StorageNotFoundError {
  return new StorageNotFoundError(typeof ref === 'number' ? `no agent with index ${ref}` : `no agent named "${ref}"`);
}

/** The WHERE clause naming an agent by index or name. */
function byRef(ref: string | number): string {
  return typeof ref === 'number' ? 'agent_index = $1' : 'name = $1';
}

/** An agent by its public key (hex). */
export async function getAgentByPubkey(ex: Ex, pubkey: string): Promise<AgentRecord | undefined> {
  const row = await ex.one<AgentRow>(`SELECT * FROM agents WHERE pubkey = $1`, [pubkey]);
  return row ? toRecord(row) : undefined;
}

/** Every agent by index, optionally of one state. */
export async function listAgents(ex: Ex, filter: { state?: AgentState } = {}): Promise<AgentRecord[]> {
  const rows = filter.state
    ? await ex.rows<AgentRow>(`SELECT * FROM agents WHERE state = $1 ORDER BY agent_index`, [filter.state])
    : await ex.rows<AgentRow>(`SELECT * FROM agents ORDER BY agent_index`);
  return rows.map(toRecord);
}

/** Sets the state; `error` (when the key is present) sets lastError. One statement: it returns the new row. */
export async function updateAgentState(ex: Ex, ref: string | number, state: AgentState, options: { now: number; error?: string }): Promise<AgentRecord> {
  if (!STATES.includes(state)) throw new StorageInputError(`agent state ${JSON.stringify(state)} is not one of ${STATES.join(', ')}`);
  const row = await ex.one<AgentRow>(
    `UPDATE agents SET state = $2, updated_at = $3, last_error = CASE WHEN $4 THEN $5 ELSE last_error END WHERE ${byRef(ref)} RETURNING *`,
    [ref, state, options.now, 'error' in options, options.error ?? null],
  );
  if (!row) throw notFound(ref);
  return toRecord(row);
}

/** Replaces the stored config (validated by the caller). */
export async function updateAgentConfig(ex: Ex, ref: string | number, config: Record<string, unknown>, now: number): Promise<AgentRecord> {
  const row = await ex.one<AgentRow>(`UPDATE agents SET config_json = $2, updated_at = $3 WHERE ${byRef(ref)} RETURNING *`, [ref, JSON.stringify(config), now]);
  if (!row) throw notFound(ref);
  return toRecord(row);
}

/** Counts a finished tick; returns the record so the caller can compare consecutiveFailures with its limit. */
export async function recordTickResult(ex: Ex, ref: string | number, result: TickResult): Promise<AgentRecord> {
  const row = await ex.one<AgentRow>(
    `UPDATE agents SET ticks = ticks + 1, last_tick_at = $2, updated_at = $2,
       failures = failures + $3, consecutive_failures = CASE WHEN $4 THEN 0 ELSE consecutive_failures + 1 END,
       last_error = coalesce($5, last_error)
     WHERE ${byRef(ref)} RETURNING *`,
    [ref, result.at, result.ok ? 0 : 1, result.ok, result.ok ? null : (result.error ?? 'tick failed')],
  );
  if (!row) throw notFound(ref);
  return toRecord(row);
}

/** The agent's stored bytes (0 for an unknown agent). */
export async function storageBytes(ex: Ex, agentIndex: number): Promise<number> {
  return (await ex.one<{ storage_bytes: number }>(`SELECT storage_bytes FROM agents WHERE agent_index = $1`, [agentIndex]))?.storage_bytes ?? 0;
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
