/**
 * The tool call waiting for the owner's approval (the oldest, and how many more), with the keys
 * that answer it: Ctrl+Y approve, Ctrl+N deny. Answering sends `/approve CODE` or `/deny CODE` as
 * the owner's NIP-17 DM, the same command a phone client would send (see docs/think.md).
 */
import { Box, Text } from 'ink';
import type { PendingApproval } from '../control/types.js';
import { tone, useTheme } from './theme.js';

/** Props: the approvals still waiting (sent ones already left out). */
export interface ApprovalBarProps {
  approvals: readonly PendingApproval[];
  width: number;
  now: number;
}

/** Nothing when no approval waits; else a bordered notice: what, the keys, why. */
export function ApprovalBar({ approvals, width, now }: ApprovalBarProps) {
  const theme = useTheme();
  const first = approvals[0];
  if (!first) return null;
  const left = Math.max(0, Math.round((first.deadline - now) / 1000));
  const more = approvals.length > 1 ? ` (+${approvals.length - 1} more)` : '';
  return (
    <Box borderStyle="round" borderColor={tone(theme, 'warn')} paddingX={1} width={width} flexDirection="column">
      <Text wrap="truncate-end">
        <Text color={tone(theme, 'warn')}>! approval {first.code}</Text>: {first.tool} {first.arguments}
      </Text>
      <Text wrap="truncate-end">
        Ctrl+Y approve · Ctrl+N deny · {left} s left{more}
      </Text>
      <Text wrap="truncate-end" color={tone(theme, 'muted')}>
        {first.why ? `${first.why} · ` : ''}
        {first.reason}
      </Text>
    </Box>
  );
}
