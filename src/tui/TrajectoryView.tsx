/**
 * Ctrl+T: the selected agent's last ticks (trigger, each step with its timing, outcome, tokens),
 * newest at the bottom, cut to the rows there are. Formatting is the same as `agent trajectory`.
 */
import { Box, Text } from 'ink';
import type { AgentSummary } from '../control/types.js';
import { formatTick, viewFromRecord } from '../trajectory/print.js';
import type { TickRecord } from '../trajectory/types.js';
import { clockSeconds, duration, oneLine } from './text.js';
import { tone, useTheme } from './theme.js';

function header(tick: TickRecord): string {
  const text = tick.trigger.text === undefined ? '' : `  ${JSON.stringify(oneLine(tick.trigger.text, 200))}`;
  return `#${tick.seq}  ${clockSeconds(tick.startedAt)}  ${tick.trigger.type}  ${tick.outcome}  ${duration(tick.endedAt - tick.startedAt)}${text}`;
}

/** The lines of the newest ticks that fit in `rows`, oldest first. */
export function trajectoryLines(ticks: readonly TickRecord[], rows: number): string[] {
  const out: string[] = [];
  for (let i = ticks.length - 1; i >= 0 && out.length < rows; i--) {
    const tick = ticks[i];
    if (!tick) continue;
    // A header that fits a pane (the text last, where a cut hurts least), then the steps and totals as `agent trajectory` prints them.
    const lines = [header(tick), ...formatTick(viewFromRecord(tick)).split('\n').slice(1)];
    const room = rows - out.length;
    // A tick that does not fit whole keeps its header and as many steps as fit.
    out.unshift(...(lines.length <= room ? lines : lines.slice(0, room)));
  }
  return out;
}

/** The trajectory pane. */
export function TrajectoryView({ agent, ticks, width, height }: { agent?: AgentSummary; ticks: readonly TickRecord[]; width: number; height: number }) {
  const theme = useTheme();
  const lines = trajectoryLines(ticks, Math.max(1, height - 3));
  return (
    <Box borderStyle="round" borderColor={tone(theme, 'accent')} paddingX={1} flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        trajectory{agent ? ` of ${agent.name}` : ''}: last {ticks.length === 1 ? 'tick' : `${ticks.length} ticks`} (Ctrl+T or Esc closes)
      </Text>
      {lines.length === 0 ? <Text color={tone(theme, 'muted')}>no ticks seen yet: they appear here as the agent runs</Text> : null}
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate-end" color={line.startsWith('#') ? tone(theme, 'accent') : undefined}>
          {line}
        </Text>
      ))}
    </Box>
  );
}
