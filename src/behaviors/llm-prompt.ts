/**
 * The prompt of an LLM-backed agent for one message: its system prompt, the facts it remembers that
 * match the message, and its conversation with the sender, oldest turns dropped to fit the agent's
 * context budget (estimated at 4 characters a token, as the provider does without `usage`).
 */
import type { IncomingMessage, TickContext } from '../runtime/types.js';
import type { ThinkMessage, ThinkRequest } from '../think/types.js';

/** Facts put into the prompt at most, and the longest one kept whole. */
const MAX_FACTS = 5;
const MAX_FACT_CHARS = 500;
/** Conversation messages read at most before trimming. */
const MAX_HISTORY = 50;

/** Tokens of a text, roughly. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The system prompt an agent gets when its config gives none. */
export function defaultSystemPrompt(ctx: Pick<TickContext, 'agent'>): string {
  return [
    `You are "${ctx.agent.name}", an agent on Nostr. You talk with people over encrypted direct messages.`,
    'Answer briefly and plainly. Use your tools when they help: remember facts worth keeping, recall before saying you do not know.',
  ].join(' ');
}

/** The system prompt with the time and the recalled facts appended. */
function systemWith(ctx: TickContext, facts: string[]): string {
  const parts = [ctx.llm.system?.trim() || defaultSystemPrompt(ctx), `The time now is ${new Date(ctx.now()).toISOString()}.`];
  if (facts.length > 0) parts.push(`Facts you remember that may be relevant:\n${facts.map((f) => `- ${f}`).join('\n')}`);
  return parts.join('\n\n');
}

/** The request for answering `message`: system, recalled facts, history with its sender, the message. */
export async function buildPrompt(ctx: TickContext, message: IncomingMessage): Promise<ThinkRequest> {
  const budget = ctx.llm.contextTokens;
  const current: ThinkMessage = { role: 'user', content: message.text };
  let facts = await recallFacts(ctx, message.text);
  let system = systemWith(ctx, facts);
  // Facts go first when even they do not fit beside the message.
  while (facts.length > 0 && estimateTokens(system) + estimateTokens(message.text) > budget) {
    facts = facts.slice(0, -1);
    system = systemWith(ctx, facts);
  }
  let room = budget - estimateTokens(system) - estimateTokens(message.text);
  const history: ThinkMessage[] = [];
  // Newest first until the budget is used; the conversation log does not hold this tick's message yet.
  for (const m of [...(await ctx.memory.history(message.sender, MAX_HISTORY))].reverse()) {
    const cost = estimateTokens(m.text) + 4;
    if (cost > room) break;
    room -= cost;
    history.unshift(m.direction === 'in' ? { role: 'user', content: m.text } : { role: 'assistant', content: m.text });
  }
  // A conversation the model sees should start with the user.
  while (history[0]?.role === 'assistant') history.shift();
  return { system, messages: [...history, current] };
}

async function recallFacts(ctx: TickContext, text: string): Promise<string[]> {
  if (!text.trim()) return [];
  return (await ctx.memory.recall(text, MAX_FACTS)).map((f) => (f.text.length > MAX_FACT_CHARS ? `${f.text.slice(0, MAX_FACT_CHARS)}…` : f.text));
}
