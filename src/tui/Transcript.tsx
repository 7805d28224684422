/**
 * The finished part of the selected conversation, printed once through Ink's <Static>: lines above
 * the live area that never re-render. The parent remounts it (a new `key`) to show another agent.
 */
import { Box, Static, Text } from 'ink';
import type { AgentSummary } from '../control/types.js';
import { MessageLine } from './MessageLine.js';
import { shortNpub } from './text.js';
import { tone, useTheme } from './theme.js';
import type { ChatMessage } from './types.js';

type Item = { kind: 'header'; id: string } | { kind: 'message'; id: string; message: ChatMessage };

/** The header line naming the conversation, then every finished message. */
export function Transcript({ agent, messages, width }: { agent: AgentSummary; messages: readonly ChatMessage[]; width: number }) {
  const theme = useTheme();
  const items: Item[] = [{ kind: 'header', id: `header:${agent.publicKey}` }, ...messages.map((m) => ({ kind: 'message' as const, id: m.id, message: m }))];
  const nameWidth = Math.min(12, Math.max(3, agent.name.length));
  const title = `── ${agent.name} · ${shortNpub(agent.npub)} · NIP-17 DMs `;
  return (
    <Static items={items} style={{ width }}>
      {(item) =>
        item.kind === 'header' ? (
          <Box key={item.id}>
            <Text color={tone(theme, 'accent')} wrap="truncate-end">
              {title}
              {'─'.repeat(Math.max(0, width - title.length))}
            </Text>
          </Box>
        ) : (
          <MessageLine key={item.id} message={item.message} agentName={agent.name} nameWidth={nameWidth} />
        )
      }
    </Static>
  );
}
