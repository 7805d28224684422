/**
 * The status line: daemon reachable or not, relays connected, the selected agent's budget use as
 * bars, and its last tick. Cut to one line; narrow terminals get shorter bars.
 */
import { Text } from 'ink';
import type { AgentSummary, RelaySummary } from '../control/types.js';
import { budgetBars, meter, percent } from './budget-bars.js';
import { clockSeconds } from './text.js';
import { tone, useTheme } from './theme.js';

/** Props of the status line. */
export interface StatusBarProps {
  down: boolean;
  relays?: readonly RelaySummary[];
  agent?: AgentSummary;
  lastTickAt?: number;
  width: number;
}

/** Relays the daemon reports as connected (the pool says `connected`; `open` is accepted too). */
export function connectedRelays(relays: readonly RelaySummary[]): number {
  return relays.filter((r) => r.state === 'connected' || r.state === 'open').length;
}

/** The status line. */
export function StatusBar({ down, relays, agent, lastTickAt, width }: StatusBarProps) {
  const theme = useTheme();
  if (down) {
    return (
      <Text color={tone(theme, 'error')} wrap="truncate-end">
        daemon not reachable · start it with `agent up` · reconnecting…
      </Text>
    );
  }
  const list = relays ?? [];
  const connected = connectedRelays(list);
  const barWidth = width >= 110 ? 8 : width >= 90 ? 5 : 3;
  const bars = budgetBars(agent?.budget);
  const tick = lastTickAt ?? agent?.lastTickAt;
  return (
    <Text wrap="truncate-end">
      <Text color={tone(theme, connected === list.length && list.length > 0 ? 'ok' : 'warn')}>
        relays {connected}/{list.length}
      </Text>
      {bars.map((bar) => (
        <Text key={bar.label}>
          {' · '}
          {bar.label} <Text color={tone(theme, bar.ratio >= 1 ? 'error' : bar.ratio >= 0.8 ? 'warn' : 'ok')}>{meter(bar.ratio, barWidth)}</Text> {percent(bar.ratio)}
        </Text>
      ))}
      <Text color={tone(theme, 'muted')}> · last tick {tick ? clockSeconds(tick) : 'never'}</Text>
    </Text>
  );
}
