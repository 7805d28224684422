/** One message of a conversation: time, who, the text (sanitized, wrapped), and its sending state. */
import { Box, Text } from 'ink';
import { safeText, clockTime } from './text.js';
import { tone, useTheme } from './theme.js';
import type { ChatMessage } from './types.js';

/** A message as printed in the transcript or the live tail. */
export function MessageLine({ message, agentName, nameWidth }: { message: ChatMessage; agentName: string; nameWidth: number }) {
  const theme = useTheme();
  const who = message.from === 'owner' ? 'you' : agentName;
  const label = who.length > nameWidth ? `${who.slice(0, nameWidth - 1)}…` : who.padEnd(nameWidth);
  const status =
    message.status === 'sending' ? ' (sending…)' : message.status === 'failed' ? ` ✗ not sent: ${safeText(message.error ?? 'unknown error')}` : '';
  return (
    <Box flexDirection="row">
      <Box flexShrink={0}>
        <Text color={tone(theme, 'muted')}>{clockTime(message.at)} </Text>
        <Text color={tone(theme, message.from === 'owner' ? 'owner' : 'agent')} bold>
          {label}
        </Text>
        <Text> </Text>
      </Box>
      <Box flexGrow={1} flexShrink={1}>
        <Text wrap="wrap">
          {safeText(message.text)}
          <Text color={tone(theme, message.status === 'failed' ? 'error' : 'muted')}>{status}</Text>
        </Text>
      </Box>
    </Box>
  );
}
