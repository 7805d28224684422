/**
 * The seams of the terminal UI. The TUI never opens sockets or databases itself: the `agent chat`
 * command (the composition root) hands it a ChatTransport (owner-side NIP-17 DMs and local
 * history) and a ChatControl (the daemon's control API), so components can be tested with any
 * implementation of these two.
 */
import type { DaemonOverview, AgentSummary } from '../control/types.js';
import type { RuntimeEvent } from '../runtime/events.js';
import type { TickRecord } from '../trajectory/types.js';

/** One line of a conversation between the owner and an agent. `at` is ms since epoch. */
export interface ChatMessage {
  id: string;
  from: 'owner' | 'agent';
  text: string;
  at: number;
  status?: 'sending' | 'sent' | 'failed';
  error?: string;
}

/** How the UI talks to an agent: real NIP-17 DMs from the owner key, and the local history. */
export interface ChatTransport {
  /** Earlier messages with this agent (from the local store), oldest first. */
  history(agent: AgentSummary, options?: { limit?: number }): Promise<ChatMessage[]>;
  /** Sends a real NIP-17 DM from the owner key to the agent through its relays; resolves when at least one relay accepted it. */
  send(agent: AgentSummary, text: string): Promise<{ id: string }>;
  /** Replies (and any DM) from the agent to the owner as they arrive; returns an unsubscribe function. */
  onMessage(listener: (agentPubkey: string, message: ChatMessage) => void): () => void;
  close(): Promise<void>;
}

/** What the UI needs from the daemon (ControlClient fits it); errors mean the daemon is unreachable. */
export interface ChatControl {
  overview(options?: { signal?: AbortSignal }): Promise<DaemonOverview>;
  /** Runtime events until the signal aborts or the daemon goes away. */
  events(options?: { signal?: AbortSignal }): AsyncIterable<RuntimeEvent>;
  /** The agent's latest ticks, oldest first, when the daemon offers them. */
  ticks?(ref: string, limit: number, options?: { signal?: AbortSignal }): Promise<TickRecord[]>;
}

/** Which pane has the keyboard. */
export type Pane = 'agents' | 'input';
