/** The input line: what the owner is typing to the selected agent, with a block cursor when focused. */
import { Box, Text } from 'ink';
import { tone, useTheme } from './theme.js';

/** Props of the input line. */
export interface InputLineProps {
  value: string;
  focused: boolean;
  agentName?: string;
  width: number;
}

/** The input line; long input shows its end so the cursor stays visible. */
export function InputLine({ value, focused, agentName, width }: InputLineProps) {
  const theme = useTheme();
  const prompt = agentName ? `to ${agentName} › ` : '› ';
  const room = Math.max(4, width - 4 - prompt.length - 1);
  const shown = value.length > room ? `…${value.slice(-(room - 1))}` : value;
  return (
    <Box borderStyle="round" borderColor={focused ? tone(theme, 'accent') : tone(theme, 'muted')} paddingX={1} width={width}>
      <Text wrap="truncate-end">
        <Text color={tone(theme, 'owner')}>{prompt}</Text>
        {shown}
        {focused ? theme.color ? <Text inverse> </Text> : '▌' : value ? null : <Text color={tone(theme, 'muted')}>(Tab to type)</Text>}
      </Text>
    </Box>
  );
}
