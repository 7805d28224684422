/** Shown in place of the panes while the daemon does not answer; the UI keeps retrying meanwhile. */
import { Box, Text } from 'ink';
import { daemonDownLines } from './daemon-down.js';
import { tone, useTheme } from './theme.js';

/** The daemon-down banner. */
export function DaemonDown({ home, width, error }: { home?: string; width: number; error?: string }) {
  const theme = useTheme();
  const [first, second] = daemonDownLines(home, { retrying: true });
  return (
    <Box borderStyle="round" borderColor={tone(theme, 'error')} paddingX={1} flexDirection="column" width={width}>
      <Text color={tone(theme, 'error')} bold>
        {first}
      </Text>
      <Text wrap="wrap">{second}</Text>
      {error ? (
        <Text color={tone(theme, 'muted')} wrap="truncate-end">
          ({error})
        </Text>
      ) : null}
      <Text color={tone(theme, 'muted')}>Ctrl+C quits.</Text>
    </Box>
  );
}
