/**
 * What the owner's DM commands answer. The engine decides who may run them (only the owner's key)
 * and applies the state change; this file only words the replies.
 */
import { npubEncode } from '../protocol/nip19.js';
import type { AgentRecord } from '../storage/types.js';
import { formatBudget } from './budget.js';
import type { OwnerCommand } from './policy.js';
import type { BudgetView } from './types.js';

/** What /status reports besides the agent row. */
export interface StatusFacts {
  pendingTriggers: number;
  alarms: number;
  nextAlarmAt?: number;
  llmConfigured: boolean;
  budget: BudgetView;
}

/** The /status text. */
export function statusText(agent: AgentRecord, facts: StatusFacts): string {
  const lines = [
    `Agent "${agent.name}" (${npubEncode(agent.pubkey)}), behavior ${agent.behavior}: ${agent.state}.`,
    `Ticks: ${agent.ticks} (failures ${agent.failures}, consecutive ${agent.consecutiveFailures})${agent.lastTickAt ? `, last at ${new Date(agent.lastTickAt).toISOString()}` : ''}.`,
    `Pending triggers: ${facts.pendingTriggers}. Alarms: ${facts.alarms}${facts.nextAlarmAt !== undefined ? ` (next ${new Date(facts.nextAlarmAt).toISOString()})` : ''}.`,
    facts.llmConfigured ? 'LLM: configured.' : 'LLM: none configured (rule-based).',
  ];
  if (agent.lastError) lines.push(`Last error: ${agent.lastError}`);
  lines.push(formatBudget(facts.budget));
  return lines.join('\n');
}

/** The reply to a state command, given the state before and whether it changed. */
export function stateCommandText(command: Extract<OwnerCommand, 'pause' | 'resume'>, before: string, after: string): string {
  if (command === 'pause') {
    return before === after ? `Already ${after}.` : 'Paused. New messages are kept and will be handled after /resume.';
  }
  if (before === after) return `Not paused (state: ${after}).`;
  return `Resumed (was ${before}). Queued messages will be handled now.`;
}
