/**
 * The conversations as React state: replies from the transport as they arrive (unread counted for
 * agents not on screen), history loaded the first time an agent is selected, and sending.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { AgentSummary } from '../control/types.js';
import {
  EMPTY_CONVERSATION,
  withFailed,
  withHistory,
  withIncoming,
  withRead,
  withSending,
  withSent,
  type Conversation,
} from './conversation.js';
import type { ChatTransport } from './types.js';

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Conversations per agent public key, plus `send` to the selected agent. */
export function useConversations(transport: ChatTransport, selected: AgentSummary | undefined, options: { historyLimit: number; now: () => number }) {
  const [conversations, setConversations] = useState<Record<string, Conversation>>({});
  const [historyErrors, setHistoryErrors] = useState<Record<string, string>>({});
  const selectedKey = useRef<string | undefined>(undefined);
  selectedKey.current = selected?.publicKey;
  const requested = useRef(new Set<string>());
  const localIds = useRef(0);
  const alive = useRef(true);

  const update = useCallback((pubkey: string, change: (c: Conversation) => Conversation) => {
    if (!alive.current) return;
    setConversations((all) => {
      const before = all[pubkey] ?? EMPTY_CONVERSATION;
      const after = change(before);
      return after === before ? all : { ...all, [pubkey]: after };
    });
  }, []);

  useEffect(() => {
    alive.current = true;
    const unsubscribe = transport.onMessage((pubkey, incoming) => update(pubkey, (c) => withIncoming(c, incoming, pubkey === selectedKey.current)));
    return () => {
      alive.current = false;
      unsubscribe();
    };
  }, [transport, update]);

  useEffect(() => {
    if (!selected) return;
    const key = selected.publicKey;
    update(key, withRead);
    if (requested.current.has(key)) return;
    requested.current.add(key);
    transport.history(selected, { limit: options.historyLimit }).then(
      (history) => update(key, (c) => withHistory(c, history)),
      (error: unknown) => {
        update(key, (c) => withHistory(c, []));
        if (alive.current) setHistoryErrors((all) => ({ ...all, [key]: `history unavailable: ${message(error)}` }));
      },
    );
  }, [selected, transport, update, options.historyLimit]);

  const send = useCallback(
    (agent: AgentSummary, text: string) => {
      const localId = `local:${++localIds.current}`;
      const key = agent.publicKey;
      update(key, (c) => withSending(c, localId, text, options.now()));
      transport.send(agent, text).then(
        ({ id }) => update(key, (c) => withSent(c, localId, id)),
        (error: unknown) => update(key, (c) => withFailed(c, localId, message(error))),
      );
    },
    [transport, update, options],
  );

  return { conversations, historyErrors, send };
}
