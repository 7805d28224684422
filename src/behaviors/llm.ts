/**
 * LLM-backed agents: each message is answered by the tool loop over the agent's granted tools, with
 * its conversation and recalled facts in the prompt. `llm` needs a model; `assistant` (assistant.ts)
 * uses the same turn when a model is configured and its rules otherwise.
 */
import type { AlarmFiring, DelegationResult, IncomingMessage, TickContext } from '../runtime/types.js';
import type { Tool } from '../think/tools/types.js';
import { defineAgent } from './define-agent.js';
import { handleWatchedEvent, handleWebhook } from './external.js';
import { buildPrompt } from './llm-prompt.js';
import { answerWith, continueAfterApproval, isSuspendedLoop, resumeLlmTurn, runLlmTurn } from './llm-turn.js';

export { continueAfterApproval };

/** What an LLM agent says when it has no model. */
export const NO_LLM_TEXT =
  'I have no language model configured, so I cannot answer. My owner can set AGENT_LLM_BASE_URL and AGENT_LLM_MODEL (or "llm" in my config) and restart the daemon.';

/** Answers a message with the LLM (the agent must have one). */
export function answerWithLlm(ctx: TickContext, message: IncomingMessage, tools: readonly Tool[] = []): Promise<void> {
  return answerWith(ctx, async () => runLlmTurn(ctx, await buildPrompt(ctx, message), tools));
}

/** Continues the conversation a delegation interrupted; forwards the reply when no loop was waiting. */
export function continueWithLlm(ctx: TickContext, result: DelegationResult, tools: readonly Tool[] = []): Promise<void> {
  return answerWith(ctx, async () => {
    // Undefined from a resumed loop means it delegated again: the answer comes later.
    if (ctx.think && isSuspendedLoop(result.state)) return resumeLlmTurn(ctx, result, tools);
    return result.reply ?? `No reply from ${result.targetName ?? result.target.slice(0, 12)} in time.`;
  });
}

/** An alarm the model set with the schedule tool comes back to it as a message from the owner. */
export function alarmWithLlm(ctx: TickContext, alarm: AlarmFiring, tools: readonly Tool[] = []): Promise<void> {
  const message: IncomingMessage = {
    kind: 'manual',
    protocol: 'manual',
    sender: ctx.agent.ownerPubkey,
    text: `(alarm you set) ${alarm.note}`,
    fromOwner: true,
    createdAt: Math.floor(alarm.firedAt / 1000),
  };
  return answerWith(ctx, async () => runLlmTurn(ctx, await buildPrompt(ctx, message), tools));
}

/** The `llm` agent: every message goes to the model (owner-only by default: it spends the owner's budget). */
export const llm = defineAgent({
  name: 'llm',
  about: 'An LLM-backed agent with tools (memory, alarms, DMs, web fetch, delegation) granted by its owner.',
  defaultDmPolicy: 'owner-only',
  async onMessage(ctx, message) {
    if (!ctx.think) return ctx.reply(NO_LLM_TEXT);
    await answerWithLlm(ctx, message);
  },
  async onMention(ctx, message) {
    if (!ctx.think) return ctx.reply(NO_LLM_TEXT);
    await answerWithLlm(ctx, message);
  },
  async onAlarm(ctx, alarm) {
    if (!ctx.think) return ctx.reply(`Alarm: ${alarm.note}`);
    await alarmWithLlm(ctx, alarm);
  },
  onDelegateReply: (ctx, result) => continueWithLlm(ctx, result),
  onApproval: (ctx, result) => continueAfterApproval(ctx, result),
  // Watched events and webhooks: the watch's (or hook's) prompt tells the model what to do; no model: a notice to the owner.
  onEvent: (ctx, event, watch) => handleWatchedEvent(ctx, event, watch),
  onWebhook: (ctx, delivery) => handleWebhook(ctx, delivery),
});
