/**
 * The left pane: the agents with their state (marker and word, so it reads without colors),
 * a busy mark while one ticks, and the unread count. Scrolls to keep the selection visible.
 */
import { Box, Text } from 'ink';
import type { AgentSummary } from '../control/types.js';
import { tone, useTheme, type Tone } from './theme.js';

const STATE: Record<string, { mark: string; role: Tone }> = {
  active: { mark: '●', role: 'ok' },
  dormant: { mark: '○', role: 'muted' },
  paused: { mark: '‖', role: 'warn' },
  failed: { mark: '✗', role: 'error' },
  creating: { mark: '◌', role: 'muted' },
  terminated: { mark: '×', role: 'muted' },
};

/** What the list needs to show one agent besides its summary. */
export interface AgentListProps {
  agents: readonly AgentSummary[];
  selected?: string;
  unread: Readonly<Record<string, number>>;
  busy: ReadonlySet<string>;
  focused: boolean;
  width: number;
  /** Rows available for agents (inside the border, below the title). */
  rows: number;
}

/** The agent list pane. */
export function AgentList({ agents, selected, unread, busy, focused, width, rows }: AgentListProps) {
  const theme = useTheme();
  const at = Math.max(0, agents.findIndex((a) => a.publicKey === selected));
  const visible = Math.max(1, rows);
  const start = Math.min(Math.max(0, at - visible + 1), Math.max(0, agents.length - visible));
  const shown = agents.slice(start, start + visible);
  const inner = Math.max(8, width - 4);
  return (
    <Box flexDirection="column" width={width} borderStyle="round" borderColor={focused ? tone(theme, 'accent') : tone(theme, 'muted')} paddingX={1} flexShrink={0}>
      <Text bold wrap="truncate-end">
        {focused ? '▸ ' : ''}agents{start > 0 ? ' ↑' : ''}
        {start + visible < agents.length ? ' ↓' : ''}
      </Text>
      {agents.length === 0 ? <Text wrap="truncate-end">none yet</Text> : null}
      {shown.map((agent) => {
        const state = STATE[agent.state] ?? { mark: '?', role: 'muted' as Tone };
        const isSelected = agent.publicKey === selected;
        const count = unread[agent.publicKey] ?? 0;
        const asks = agent.approvals?.length ?? 0;
        // Unread messages in parentheses; "!" when the agent waits for the owner's approval.
        const badge = `${count > 0 ? ` (${count})` : ''}${asks > 0 ? ' !' : ''}`;
        const word = busy.has(agent.publicKey) ? 'ticking' : agent.state;
        const nameWidth = Math.max(3, inner - 2 - word.length - 3 - badge.length);
        const name = agent.name.length > nameWidth ? `${agent.name.slice(0, nameWidth - 1)}…` : agent.name.padEnd(nameWidth);
        return (
          <Text key={agent.publicKey} wrap="truncate-end">
            <Text color={isSelected ? tone(theme, 'accent') : undefined} bold={isSelected}>
              {isSelected ? '›' : ' '} {name}
            </Text>{' '}
            <Text color={tone(theme, state.role)}>
              {state.mark} {word}
            </Text>
            <Text color={tone(theme, 'warn')} bold>
              {badge}
            </Text>
          </Text>
        );
      })}
    </Box>
  );
}
