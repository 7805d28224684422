/**
 * The `assistant` agent. With an LLM configured, messages go to the model (llm.ts: tool loop with
 * history and recalled facts). Without one it is a deterministic helper that exercises memory and
 * alarms: remember / recall (FTS5) / forget, "remind me in <duration> to <text>", status and help.
 * `status` is always answered by the rules and says which mode is on. Owner-only by default.
 */
import { formatBudget } from '../runtime/budget.js';
import { formatDuration, parseDuration } from '../runtime/duration.js';
import type { IncomingMessage, TickContext } from '../runtime/types.js';
import { errorCode } from '../util/errors.js';
import { defineAgent } from './define-agent.js';
import { handleWatchedEvent, handleWebhook } from './external.js';
import { alarmWithLlm, answerWithLlm, continueAfterApproval, continueWithLlm } from './llm.js';

/** What the assistant understands, for help and for unknown input. */
export const ASSISTANT_COMMANDS = [
  'remember <fact>: I keep it',
  'recall <words>: I list what I remember about them',
  'forget <words>: I drop the facts containing all those words',
  'remind me in <duration> to <text>: e.g. "remind me in 10 minutes to stretch" (s, m, h, d)',
  'status: my state, ticks and budget use',
  'help: this list',
];

const help = (): string => `I can do this:\n${ASSISTANT_COMMANDS.map((c) => `- ${c}`).join('\n')}`;

/** Strips a leading `nostr:npub…`/`@name` mention so "@bot remember x" reads as "remember x". */
function clean(text: string): string {
  return text
    .replace(/nostr:(npub|nprofile)1[02-9ac-hj-np-z]+/gi, ' ')
    .replace(/^\s*@\S+\s*/, '')
    .trim();
}

function remember(ctx: TickContext, fact: string): string {
  try {
    ctx.memory.remember(fact);
  } catch (error) {
    if (errorCode(error) === 'STORAGE_BUDGET_EXCEEDED') return `I can't remember that: ${(error as Error).message}.`;
    throw error;
  }
  return `Remembered: ${fact}`;
}

async function recall(ctx: TickContext, words: string): Promise<string> {
  const facts = await ctx.memory.recall(words, 10);
  if (facts.length === 0) return `I don't remember anything about "${words}".`;
  return `I remember:\n${facts.map((f) => `- ${f.text}`).join('\n')}`;
}

async function forget(ctx: TickContext, words: string): Promise<string> {
  const n = await ctx.memory.forget(words);
  if (n === 0) return `I had nothing to forget about "${words}".`;
  return `Forgot ${n} fact${n === 1 ? '' : 's'} about "${words}".`;
}

function remind(ctx: TickContext, message: IncomingMessage, when: string, what: string): string {
  let ms: number;
  try {
    ms = parseDuration(when);
  } catch (error) {
    return `I can't set that reminder: ${(error as Error).message}. Example: "remind me in 10 minutes to stretch".`;
  }
  const { firstAt } = ctx.schedule({ in: ms, note: what, data: { to: message.sender } });
  const at = new Date(firstAt ?? ctx.now() + ms).toISOString();
  return `OK, I'll remind you in ${formatDuration(ms)} (at ${at}) to ${what}.`;
}

function status(ctx: TickContext): string {
  const a = ctx.agent;
  return [
    `I am "${a.name}", the ${a.behavior} agent. State: ${a.state}. Ticks so far: ${a.ticks}.`,
    ctx.think ? `LLM: configured (${ctx.think.name}); I answer with it.` : 'No LLM is configured: I answer with fixed rules.',
    formatBudget(ctx.budget()),
  ].join('\n');
}

/** Answers one message with the rules (also used for mentions). */
export async function answer(ctx: TickContext, message: IncomingMessage): Promise<string> {
  const text = clean(message.text);
  const lower = text.toLowerCase();
  let m: RegExpExecArray | null;
  if ((m = /^remember\s+(?:that\s+)?([\s\S]+)$/i.exec(text))) return remember(ctx, m[1]!.trim());
  if ((m = /^recall\s+([\s\S]+)$/i.exec(text))) return recall(ctx, m[1]!.trim());
  if ((m = /^forget\s+(?:about\s+)?([\s\S]+)$/i.exec(text))) return forget(ctx, m[1]!.trim());
  if ((m = /^remind me in\s+(.+?)\s+to\s+([\s\S]+)$/i.exec(text))) return remind(ctx, message, m[1]!, m[2]!.trim());
  if (/^remind me\b/i.test(text)) return `I didn't get the time. Say it like: "remind me in 10 minutes to stretch".`;
  if (lower === 'status' || lower === '/status') return status(ctx);
  if (lower === 'help' || lower === '/help' || lower === '?') return help();
  return `I didn't understand "${text.length > 60 ? `${text.slice(0, 57)}...` : text}". ${help()}`;
}

/** True for the messages the rules answer even with an LLM (cheap and exact). */
function ruleOnly(message: IncomingMessage): boolean {
  return /^\/?status$/i.test(clean(message.text));
}

async function respond(ctx: TickContext, message: IncomingMessage): Promise<void> {
  if (ctx.think && !ruleOnly(message)) return answerWithLlm(ctx, message);
  ctx.reply(await answer(ctx, message));
}

/** The assistant: the LLM when one is configured, the rules otherwise. */
export const assistant = defineAgent({
  name: 'assistant',
  about: 'A helper: with an LLM it answers with tools (memory, alarms); without, by rules (remember, recall, forget, remind me in …, status, help).',
  defaultDmPolicy: 'owner-only',
  onMessage: respond,
  onMention: respond,
  onDelegateReply: (ctx, result) => continueWithLlm(ctx, result),
  onApproval: (ctx, result) => continueAfterApproval(ctx, result),
  onEvent: (ctx, event, watch) => handleWatchedEvent(ctx, event, watch),
  onWebhook: (ctx, delivery) => handleWebhook(ctx, delivery),
  async onAlarm(ctx, alarm) {
    // Alarms the model set (schedule tool) go back to the model; reminders set by the rules are sent as they are.
    if (ctx.think && alarm.key?.startsWith('tool:')) return alarmWithLlm(ctx, alarm);
    const to = alarm.data && typeof alarm.data === 'object' && !Array.isArray(alarm.data) && typeof alarm.data.to === 'string' ? alarm.data.to : ctx.agent.ownerPubkey;
    ctx.sendDm(to, `Reminder: ${alarm.note}`);
  },
});
