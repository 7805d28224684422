/**
 * One conversation's state as pure functions, so the rules are testable without a terminal.
 * Messages keep arrival order and only ever grow at the end (or change in the still-live tail),
 * which is what lets finished lines be printed once with Ink's <Static>.
 */
import type { ChatMessage } from './types.js';

/** The owner's conversation with one agent. */
export interface Conversation {
  /** False until the local history has been merged in; nothing is final before that. */
  loaded: boolean;
  messages: ChatMessage[];
  /** Agent messages that arrived while another agent was selected. */
  unread: number;
}

/** A conversation before anything is known. */
export const EMPTY_CONVERSATION: Conversation = { loaded: false, messages: [], unread: 0 };

/** Merges the stored history in front of what arrived meanwhile (deduped by id) and marks it loaded. */
export function withHistory(c: Conversation, history: readonly ChatMessage[]): Conversation {
  const ids = new Set(history.map((m) => m.id));
  const earlier = [...history].sort((a, b) => a.at - b.at);
  return { ...c, loaded: true, messages: [...earlier, ...c.messages.filter((m) => !ids.has(m.id))] };
}

/** Adds a message that arrived over the transport; a repeat of a known id changes nothing. */
export function withIncoming(c: Conversation, message: ChatMessage, selected: boolean): Conversation {
  if (c.messages.some((m) => m.id === message.id)) return c;
  const unread = !selected && message.from === 'agent' ? c.unread + 1 : c.unread;
  return { ...c, unread, messages: [...c.messages, { ...message, status: message.status === 'sending' ? 'sent' : message.status }] };
}

/** Adds the owner's message under a local id while it is being sent. */
export function withSending(c: Conversation, localId: string, text: string, at: number): Conversation {
  return { ...c, messages: [...c.messages, { id: localId, from: 'owner', text, at, status: 'sending' }] };
}

/**
 * Marks a sent message with its real id. If the relays echoed the owner's copy back first (a NIP-17
 * send also wraps to the sender), that later duplicate is dropped; it sits in the live tail.
 */
export function withSent(c: Conversation, localId: string, id: string): Conversation {
  const index = c.messages.findIndex((m) => m.id === localId);
  if (index < 0) return c;
  const messages = c.messages.filter((m, i) => !(m.id === id && i > index));
  return { ...c, messages: messages.map((m) => (m.id === localId ? { ...m, id, status: 'sent' as const } : m)) };
}

/** Marks a message that could not be sent, with the reason. */
export function withFailed(c: Conversation, localId: string, error: string): Conversation {
  return { ...c, messages: c.messages.map((m) => (m.id === localId ? { ...m, status: 'failed' as const, error } : m)) };
}

/** Clears the unread count (the conversation is being looked at). */
export function withRead(c: Conversation): Conversation {
  return c.unread === 0 ? c : { ...c, unread: 0 };
}

/**
 * Splits the messages into the finished prefix (printed once, never changes) and the live tail:
 * everything from the first message still being sent, or everything while history is loading.
 */
export function splitFinished(c: Conversation): { finished: ChatMessage[]; live: ChatMessage[] } {
  if (!c.loaded) return { finished: [], live: c.messages };
  const cut = c.messages.findIndex((m) => m.status === 'sending');
  return cut < 0 ? { finished: c.messages, live: [] } : { finished: c.messages.slice(0, cut), live: c.messages.slice(cut) };
}
