/**
 * Which of the behavior's handlers a trigger goes to, each run as one recorded step: `onWake`
 * first when the agent was just loaded, then exactly one of `onCreate`, the approval or
 * delegation resumption (matched before the context was built), or the hook for the trigger's type.
 */
import { handleApproval, type ApprovalMatch } from '../approvals.js';
import { handleDelegation, type DelegationMatch } from '../delegation.js';
import type { TickState } from '../context.js';
import type { ParsedTrigger } from '../triggers.js';
import type { AgentBehavior, TickContext } from '../types.js';

/** What the run hands the dispatcher. */
export interface Dispatch {
  ctx: TickContext;
  behavior: AgentBehavior;
  parsed: ParsedTrigger;
  state: TickState;
  /** The agent was loaded for this tick and its `onWake` has not run yet. */
  wakePending: boolean;
  approval?: ApprovalMatch;
  delegation?: DelegationMatch;
}

/** Runs the behavior's handlers for this trigger. */
export async function dispatch(d: Dispatch): Promise<void> {
  const { ctx, behavior, parsed, state, approval, delegation } = d;
  const t = parsed.trigger;
  if (d.wakePending && behavior.onWake) await ctx.step('state', 'wake', () => behavior.onWake?.(ctx));
  if (parsed.action === 'create') {
    await ctx.step('state', 'create', () => behavior.onCreate?.(ctx));
    return;
  }
  if (approval) {
    const match = approval;
    // The owner's command is answered in its own thread; the resumed loop answers the original requester.
    const ack = (text: string): void => {
      if (t.type === 'dm') state.intents.push({ type: 'reply', to: t.inbound, text });
    };
    const code = match.type === 'unknown' ? match.command.code : match.record.code;
    await ctx.step('think', `${behavior.name}.onApproval`, () => handleApproval(ctx, behavior, match, state.buffer, ack), { approval: code, outcome: match.type });
    return;
  }
  if (delegation) {
    const match = delegation;
    await ctx.step('think', `${behavior.name}.onDelegateReply`, () => handleDelegation(ctx, behavior, match, state.buffer), { delegation: match.record.id, outcome: match.type });
    return;
  }
  const hook = t.type === 'dm' || t.type === 'manual' ? 'onMessage' : t.type === 'mention' ? 'onMention' : t.type === 'alarm' ? 'onAlarm' : t.source === 'webhook' ? 'onWebhook' : 'onEvent';
  const name = `${behavior.name}.${hook}`;
  await ctx.step('think', name, async () => {
    if (t.type === 'dm' || t.type === 'manual') await behavior.onMessage?.(ctx, t.message);
    else if (t.type === 'mention') await behavior.onMention?.(ctx, t.message);
    else if (t.type === 'alarm') await behavior.onAlarm?.(ctx, t.alarm);
    else if (t.source === 'webhook') await behavior.onWebhook?.(ctx, t.webhook);
    else await behavior.onEvent?.(ctx, t.event, t.watch);
  });
}
