/** The keys, always on screen; the short form fits 80 columns. */
import { Text } from 'ink';
import { tone, useTheme } from './theme.js';

/** The key line. */
export function KeyHints({ width, trajectory }: { width: number; trajectory: boolean }) {
  const theme = useTheme();
  const view = trajectory ? 'chat' : 'trajectory';
  const text =
    width >= 90
      ? `Tab switch pane · ↑/↓ select agent · Enter send · Ctrl+T ${view} · Ctrl+C quit`
      : `Tab pane · ↑/↓ agent · Enter send · Ctrl+T ${view} · Ctrl+C quit`;
  return (
    <Text color={tone(theme, 'muted')} wrap="truncate-end">
      {text}
    </Text>
  );
}
