/** Conversations: every message an agent exchanged, per peer, for context and for `agent logs`. */
import type { ConversationMessage, MessageDirection, NewMessage } from '../agent-types.js';
import { StorageInputError } from '../errors.js';
import type { Db } from './database.js';
import { all, run, sql } from './query.js';

interface MessageRow {
  id: number;
  peer: string;
  direction: MessageDirection;
  text: string;
  event_id: string | null;
  at: number;
}

const INSERT = sql<[number, string, string, string, string | null, number]>(`
  INSERT INTO messages (agent_index, peer, direction, text, event_id, at) VALUES (?, ?, ?, ?, ?, ?)`);
const HISTORY = sql<[number, string, number], MessageRow>(`
  SELECT id, peer, direction, text, event_id, at FROM messages WHERE agent_index = ? AND peer = ?
  ORDER BY at DESC, id DESC LIMIT ?`);

/** Appends a message to the agent's conversation with `peer`; returns its id. */
export function appendMessage(db: Db, agentIndex: number, message: NewMessage): number {
  if (typeof message.peer !== 'string' || message.peer === '') throw new StorageInputError('a message needs a peer');
  if (message.direction !== 'in' && message.direction !== 'out') throw new StorageInputError(`message direction must be "in" or "out", got ${JSON.stringify(message.direction)}`);
  if (typeof message.text !== 'string') throw new StorageInputError('message text must be a string');
  return Number(run(db, INSERT, agentIndex, message.peer, message.direction, message.text, message.eventId ?? null, message.at).lastInsertRowid);
}

/** The last `limit` messages with `peer`, oldest first (newest last), as a prompt wants them. */
export function conversationHistory(db: Db, agentIndex: number, peer: string, limit = 20): ConversationMessage[] {
  return all(db, HISTORY, agentIndex, peer, limit)
    .reverse()
    .map((r) => {
      const message: ConversationMessage = { id: r.id, peer: r.peer, direction: r.direction, text: r.text, at: r.at };
      if (r.event_id !== null) message.eventId = r.event_id;
      return message;
    });
}
