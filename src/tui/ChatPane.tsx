/**
 * The live part of the chat pane: messages still being sent (and what arrived after them), what the
 * agent is doing right now (thinking…, the step it is on, from the runtime event stream), and the
 * latest notice. Finished messages are not here: they are printed once by <Transcript>.
 */
import { Box, Text } from 'ink';
import type { AgentSummary } from '../control/types.js';
import type { AgentActivity } from './activity.js';
import { MessageLine } from './MessageLine.js';
import { clockSeconds, duration, oneLine } from './text.js';
import { tone, useTheme } from './theme.js';
import type { ChatMessage } from './types.js';

/** Props of the live chat pane. */
export interface ChatPaneProps {
  agent?: AgentSummary;
  /** True until the daemon's first overview arrived. */
  connecting?: boolean;
  live: readonly ChatMessage[];
  loaded: boolean;
  activity?: AgentActivity;
  width: number;
  height: number;
}

function stepText(activity: AgentActivity): string {
  const step = activity.busy?.step;
  if (!step) return 'thinking…';
  const what = [step.type, step.name ? oneLine(step.name, 24) : ''].filter(Boolean).join(' ');
  return `thinking… ${what} (${duration(step.ms)})`;
}

/** The live chat pane. */
export function ChatPane({ agent, connecting, live, loaded, activity, width, height }: ChatPaneProps) {
  const theme = useTheme();
  const border = { borderStyle: 'round' as const, borderColor: tone(theme, 'muted'), paddingX: 1 };
  if (!agent && connecting) {
    return (
      <Box {...border} width={width} height={height}>
        <Text color={tone(theme, 'muted')}>connecting to the daemon…</Text>
      </Box>
    );
  }
  if (!agent) {
    return (
      <Box {...border} flexDirection="column" width={width} height={height}>
        <Text>No agent to chat with yet.</Text>
        <Text wrap="wrap">Create one: agent create helper --behavior assistant</Text>
      </Box>
    );
  }
  const nameWidth = Math.min(12, Math.max(3, agent.name.length));
  const rows = Math.max(1, height - 4);
  const shown = live.slice(-rows);
  const busy = activity?.busy;
  const last = activity?.ticks.at(-1);
  const lastTickAt = activity?.lastTickAt ?? agent.lastTickAt;
  return (
    <Box {...border} flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        chat with {agent.name}
      </Text>
      {!loaded ? <Text color={tone(theme, 'muted')}>loading history…</Text> : null}
      {shown.map((message) => (
        <MessageLine key={message.id} message={message} agentName={agent.name} nameWidth={nameWidth} />
      ))}
      <Box flexGrow={1} />
      {busy ? (
        <Text color={tone(theme, 'warn')} wrap="truncate-end">
          ⋯ {agent.name} is {stepText(activity)} · {busy.trigger} tick
        </Text>
      ) : (
        <Text color={tone(theme, 'muted')} wrap="truncate-end">
          {lastTickAt ? `idle · last tick ${clockSeconds(lastTickAt)}${last ? ` ${last.outcome} in ${duration(last.endedAt - last.startedAt)}` : ''}` : 'idle · no tick yet'}
        </Text>
      )}
      {activity?.notice ? (
        <Text color={tone(theme, 'warn')} wrap="truncate-end">
          ! {oneLine(activity.notice.text, width)}
        </Text>
      ) : null}
    </Box>
  );
}
