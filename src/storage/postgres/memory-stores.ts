/**
 * Conversations, goals and peers on Postgres: the three small memory tables (SQLite keeps them in
 * conversation-store.ts, goal-store.ts and peer-store.ts; each is a handful of one-line statements
 * here, so they share a file).
 */
import type { ConversationMessage, Goal, GoalStatus, MessageDirection, NewMessage, PeerRecord, PeerTrust } from '../agent-types.js';
import { StorageInputError } from '../errors.js';
import type { Ex } from './executor.js';
import { limitOrAll } from './json.js';

interface MessageRow {
  id: number;
  peer: string;
  direction: MessageDirection;
  text: string;
  event_id: string | null;
  at: number;
}

/** Appends a message to the agent's conversation with `peer`; returns its id. */
export async function appendMessage(ex: Ex, agentIndex: number, message: NewMessage): Promise<number> {
  if (typeof message.peer !== 'string' || message.peer === '') throw new StorageInputError('a message needs a peer');
  if (message.direction !== 'in' && message.direction !== 'out') throw new StorageInputError(`message direction must be "in" or "out", got ${JSON.stringify(message.direction)}`);
  if (typeof message.text !== 'string') throw new StorageInputError('message text must be a string');
  const row = await ex.one<{ id: number }>(
    `INSERT INTO messages (agent_index, peer, direction, text, event_id, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [agentIndex, message.peer, message.direction, message.text, message.eventId ?? null, message.at],
  );
  return row!.id;
}

/** Appends several messages in one statement (the tick commit's: one round trip), in order; same checks as appendMessage. */
export async function appendMessages(ex: Ex, agentIndex: number, messages: readonly NewMessage[]): Promise<void> {
  if (messages.length === 0) return;
  if (messages.length === 1) {
    await appendMessage(ex, agentIndex, messages[0]!);
    return;
  }
  for (const message of messages) {
    if (typeof message.peer !== 'string' || message.peer === '') throw new StorageInputError('a message needs a peer');
    if (message.direction !== 'in' && message.direction !== 'out') throw new StorageInputError(`message direction must be "in" or "out", got ${JSON.stringify(message.direction)}`);
    if (typeof message.text !== 'string') throw new StorageInputError('message text must be a string');
  }
  await ex.count(
    `INSERT INTO messages (agent_index, peer, direction, text, event_id, at)
     SELECT $1, p, d, t, e, a FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) WITH ORDINALITY AS v(p, d, t, e, a, i) ORDER BY i`,
    [agentIndex, messages.map((m) => m.peer), messages.map((m) => m.direction), messages.map((m) => m.text), messages.map((m) => m.eventId ?? null), messages.map((m) => m.at)],
  );
}

/** The last `limit` messages with `peer`, oldest first (newest last); no limit when undefined or negative. */
export async function conversationHistory(ex: Ex, agentIndex: number, peer: string, limit: number | undefined = 20): Promise<ConversationMessage[]> {
  const rows = await ex.rows<MessageRow>(
    `SELECT id, peer, direction, text, event_id, at FROM messages WHERE agent_index = $1 AND peer = $2 ORDER BY at DESC, id DESC LIMIT $3`,
    [agentIndex, peer, limit === undefined || limit < 0 ? null : limit],
  );
  return rows.reverse().map((r) => {
    const message: ConversationMessage = { id: r.id, peer: r.peer, direction: r.direction, text: r.text, at: r.at };
    if (r.event_id !== null) message.eventId = r.event_id;
    return message;
  });
}

/** A goals row. */
export interface GoalRow {
  id: number;
  text: string;
  status: GoalStatus;
  due_at: number | null;
  created_at: number;
  updated_at: number;
}

const STATUSES: readonly GoalStatus[] = ['open', 'done', 'dropped'];

/** Adds an open goal. */
export async function addGoal(ex: Ex, agentIndex: number, text: string, dueAt: number | undefined, now: number): Promise<Goal> {
  const clean = text.trim();
  if (clean === '') throw new StorageInputError('a goal must not be empty');
  const row = await ex.one<{ id: number }>(
    `INSERT INTO goals (agent_index, text, due_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id`,
    [agentIndex, clean, dueAt ?? null, now],
  );
  const goal: Goal = { id: row!.id, text: clean, status: 'open', createdAt: now, updatedAt: now };
  if (dueAt !== undefined) goal.dueAt = dueAt;
  return goal;
}

/** Sets a goal's status; false when the agent has no such goal. */
export async function setGoalStatus(ex: Ex, agentIndex: number, id: number, status: GoalStatus, now: number): Promise<boolean> {
  if (!STATUSES.includes(status)) throw new StorageInputError(`goal status must be one of ${STATUSES.join(', ')}, got ${JSON.stringify(status)}`);
  return (await ex.count(`UPDATE goals SET status = $1, updated_at = $2 WHERE agent_index = $3 AND id = $4`, [status, now, agentIndex, id])) > 0;
}

/** The agent's goals in creation order, optionally of one status. */
export async function listGoals(ex: Ex, agentIndex: number, status?: GoalStatus): Promise<Goal[]> {
  const rows = status
    ? await ex.rows<GoalRow>(`SELECT * FROM goals WHERE agent_index = $1 AND status = $2 ORDER BY id`, [agentIndex, status])
    : await ex.rows<GoalRow>(`SELECT * FROM goals WHERE agent_index = $1 ORDER BY id`, [agentIndex]);
  return rows.map(toGoal);
}

/** A goal from its row. */
export function toGoal(r: GoalRow): Goal {
  const goal: Goal = { id: r.id, text: r.text, status: r.status, createdAt: r.created_at, updatedAt: r.updated_at };
  if (r.due_at !== null) goal.dueAt = r.due_at;
  return goal;
}

/** A peers row. */
export interface PeerRow {
  pubkey: string;
  first_seen: number;
  last_seen: number;
  message_count: number;
  trust: PeerTrust;
}

const TRUST: readonly PeerTrust[] = ['owner', 'trusted', 'known', 'unknown', 'blocked'];

function checkTrust(trust: PeerTrust | undefined): void {
  if (trust !== undefined && !TRUST.includes(trust)) throw new StorageInputError(`peer trust must be one of ${TRUST.join(', ')}, got ${JSON.stringify(trust)}`);
}

/** Records a message with a peer (creating it on first contact); optionally sets its trust. One upsert. */
export async function touchPeer(ex: Ex, agentIndex: number, pubkey: string, at: number, trust?: PeerTrust): Promise<PeerRecord> {
  if (typeof pubkey !== 'string' || pubkey === '') throw new StorageInputError('a peer needs a pubkey');
  checkTrust(trust);
  const row = await ex.one<PeerRow>(
    `INSERT INTO peers AS p (agent_index, pubkey, first_seen, last_seen, message_count, trust) VALUES ($1, $2, $3, $3, 1, coalesce($4, 'unknown'))
     ON CONFLICT (agent_index, pubkey) DO UPDATE SET
       first_seen = least(p.first_seen, excluded.first_seen), last_seen = greatest(p.last_seen, excluded.last_seen),
       message_count = p.message_count + 1, trust = coalesce($4, p.trust)
     RETURNING pubkey, first_seen, last_seen, message_count, trust`,
    [agentIndex, pubkey, at, trust ?? null],
  );
  return toPeer(row!);
}

/** Sets a known peer's trust; false when the agent has never seen it. */
export async function setPeerTrust(ex: Ex, agentIndex: number, pubkey: string, trust: PeerTrust): Promise<boolean> {
  checkTrust(trust);
  return (await ex.count(`UPDATE peers SET trust = $1 WHERE agent_index = $2 AND pubkey = $3`, [trust, agentIndex, pubkey])) > 0;
}

/** One peer, if seen. */
export async function getPeer(ex: Ex, agentIndex: number, pubkey: string): Promise<PeerRecord | undefined> {
  const row = await ex.one<PeerRow>(`SELECT * FROM peers WHERE agent_index = $1 AND pubkey = $2`, [agentIndex, pubkey]);
  return row ? toPeer(row) : undefined;
}

/** The agent's peers, most recently seen first. */
export async function listPeers(ex: Ex, agentIndex: number, limit?: number): Promise<PeerRecord[]> {
  const rows = await ex.rows<PeerRow>(`SELECT * FROM peers WHERE agent_index = $1 ORDER BY last_seen DESC, pubkey LIMIT $2`, [agentIndex, limitOrAll(limit)]);
  return rows.map(toPeer);
}

/** A peer record from its row. */
export function toPeer(row: PeerRow): PeerRecord {
  return { pubkey: row.pubkey, firstSeen: row.first_seen, lastSeen: row.last_seen, messageCount: row.message_count, trust: row.trust };
}
