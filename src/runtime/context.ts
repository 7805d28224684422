/**
 * The TickContext a behavior gets: every effect (messages, memory, alarms, sats, LLM use) is
 * recorded in a TickState and nothing leaves it until the engine commits. Once the tick is over
 * (committed, failed or aborted) the context is closed and any late call throws.
 */
import { parsePublicKey } from '../protocol/nip19.js';
import type { JsonValue, ScheduleOp, ScheduleSpec } from '../storage/types.js';
import type { ToolCapabilities, ToolContext } from '../think/tools/types.js';
import type { ThinkProvider } from '../think/types.js';
import type { TrajectoryStep } from '../trajectory/types.js';
import { parseDuration } from './duration.js';
import { BudgetExceededError } from './errors.js';
import type { TickBuffer } from './tick-buffer.js';
import type { AgentInfo, BudgetView, OutboundIntent, ScheduleRequest, ScheduledAlarm, TickContext, Trigger } from './types.js';

/** The longest message text accepted (NIP-44 plaintext tops out at 65,535 bytes; the wrap adds JSON around it). */
export const MAX_TEXT_BYTES = 60_000;

/** Everything a tick did, for the engine to commit (or drop). */
export interface TickState {
  buffer: TickBuffer;
  intents: OutboundIntent[];
  schedules: ScheduleOp[];
  steps: TrajectoryStep[];
  llm: { calls: number; input: number; output: number };
  sats: number;
  closed: boolean;
}

/** What the engine hands in to build a context. */
export interface ContextParams {
  agent: AgentInfo;
  trigger: Trigger;
  signal: AbortSignal;
  state: TickState;
  now: () => number;
  /** Budget view over the ledger plus this tick's own use. */
  budget: () => BudgetView;
  think?: ThinkProvider;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** Appends a finished step (and tells observers). */
  record: (step: TrajectoryStep) => void;
  /** Whether the agent has a stored schedule with this key / id (for cancelSchedule's answer). */
  storedSchedule: { byKey(key: string): boolean; byId(id: number): boolean };
}

function checkText(what: string, text: unknown): string {
  if (typeof text !== 'string' || text.trim() === '') throw new TypeError(`${what}: text must be a non-empty string`);
  const size = new TextEncoder().encode(text).length;
  if (size > MAX_TEXT_BYTES) throw new TypeError(`${what}: text is ${size} bytes; the limit is ${MAX_TEXT_BYTES}`);
  return text;
}

function toMs(value: number | string, what: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) throw new TypeError(`schedule: "${what}" must be a positive number of ms`);
    return Math.round(value);
  }
  return parseDuration(value);
}

/** Turns a ScheduleRequest into a storage spec and its first firing time (undefined for cron: computed at commit). */
export function scheduleSpec(request: ScheduleRequest, now: number): { spec: ScheduleSpec; firstAt?: number } {
  const given = (['in', 'at', 'every', 'cron'] as const).filter((k) => request[k] !== undefined);
  if (given.length !== 1) throw new TypeError(`schedule: give exactly one of in, at, every or cron (got ${given.join(', ') || 'none'})`);
  if (request.in !== undefined) {
    const at = now + toMs(request.in, 'in');
    return { spec: { type: 'at', at }, firstAt: at };
  }
  if (request.at !== undefined) {
    const at = request.at instanceof Date ? request.at.getTime() : request.at;
    if (!Number.isFinite(at) || at < 0) throw new TypeError('schedule: "at" must be a time in ms since the epoch or a Date');
    return { spec: { type: 'at', at: Math.round(at) }, firstAt: Math.round(at) };
  }
  if (request.every !== undefined) {
    const everyMs = toMs(request.every, 'every');
    return { spec: { type: 'interval', everyMs }, firstAt: now + everyMs };
  }
  return { spec: { type: 'cron', expr: String(request.cron) } };
}

/** Builds the context for one tick. */
export function createTickContext(p: ContextParams): TickContext {
  const { state } = p;
  const open = (): void => {
    if (state.closed) throw new Error('this tick is over: its context can no longer be used');
  };
  const ownerOrSender = (): string => (p.trigger.type === 'dm' || p.trigger.type === 'mention' || p.trigger.type === 'manual' ? p.trigger.message.sender : p.agent.ownerPubkey);

  const ctx: TickContext = {
    agent: p.agent,
    trigger: p.trigger,
    signal: p.signal,
    now: p.now,
    memory: state.buffer,
    reply(text) {
      open();
      checkText('reply', text);
      if (p.trigger.type === 'dm' || p.trigger.type === 'mention') state.intents.push({ type: 'reply', to: p.trigger.inbound, text });
      else state.intents.push({ type: 'dm', recipient: ownerOrSender(), text });
    },
    sendDm(pubkey, text) {
      open();
      checkText('sendDm', text);
      let recipient: string;
      try {
        recipient = parsePublicKey(pubkey);
      } catch (error) {
        throw new TypeError(`sendDm: ${(error as Error).message}`, { cause: error });
      }
      state.intents.push({ type: 'dm', recipient, text });
    },
    publishNote(text) {
      open();
      state.intents.push({ type: 'note', text: checkText('publishNote', text) });
    },
    schedule(request) {
      open();
      const { spec, firstAt } = scheduleSpec(request, p.now());
      if (request.key !== undefined && (typeof request.key !== 'string' || request.key === '')) throw new TypeError('schedule: key must be a non-empty string');
      const payload: { note: string; data?: JsonValue } = { note: request.note ?? '' };
      if (request.data !== undefined) payload.data = request.data;
      state.schedules.push({ op: 'create', spec, payload, ...(request.key !== undefined ? { key: request.key } : {}) });
      const out: ScheduledAlarm = {};
      if (firstAt !== undefined) out.firstAt = firstAt;
      if (request.key !== undefined) out.key = request.key;
      return out;
    },
    cancelSchedule(keyOrId) {
      open();
      if (typeof keyOrId === 'string') {
        const before = state.schedules.length;
        state.schedules = state.schedules.filter((op) => !(op.op === 'create' && op.key === keyOrId));
        const buffered = state.schedules.length < before;
        state.schedules.push({ op: 'deleteKey', key: keyOrId });
        return buffered || p.storedSchedule.byKey(keyOrId);
      }
      state.schedules.push({ op: 'delete', id: keyOrId });
      return p.storedSchedule.byId(keyOrId);
    },
    spendSats(sats) {
      open();
      if (!Number.isInteger(sats) || sats < 0) throw new TypeError('spendSats: sats must be a non-negative integer');
      const view = p.budget();
      if (view.sats.limit !== undefined && view.sats.used + sats > view.sats.limit) {
        throw new BudgetExceededError('sats', view.sats.used + sats, view.sats.limit);
      }
      state.sats += sats;
    },
    budget: () => p.budget(),
    ...(p.think ? { think: budgetedThink(p.think, p, open) } : {}),
    tools: (capabilities) => toolContext(ctx, capabilities, p),
    log: (msg, fields) => p.log(msg, fields),
    async step(type, name, fn, detail) {
      open();
      const at = p.now();
      try {
        return await fn();
      } finally {
        p.record({ type, name, at, ms: p.now() - at, ...(detail ? { detail } : {}) });
      }
    },
  };
  return ctx;
}

/** Counts LLM calls and tokens against the agent's daily budget before and after each call. */
function budgetedThink(inner: ThinkProvider, p: ContextParams, open: () => void): ThinkProvider {
  return {
    name: inner.name,
    async think(request, options) {
      open();
      const view = p.budget();
      if (view.llmCalls.limit !== undefined && view.llmCalls.used >= view.llmCalls.limit) throw new BudgetExceededError('llmCalls', view.llmCalls.used, view.llmCalls.limit);
      if (view.tokens.limit !== undefined && view.tokens.used >= view.tokens.limit) throw new BudgetExceededError('tokens', view.tokens.used, view.tokens.limit);
      const result = await inner.think(request, { signal: options?.signal ?? p.signal });
      p.state.llm.calls += 1;
      p.state.llm.input += result.usage.inputTokens;
      p.state.llm.output += result.usage.outputTokens;
      return result;
    },
  };
}

/** The think layer's ToolContext over this tick (effects buffered like the behavior's own). */
function toolContext(ctx: TickContext, capabilities: ToolCapabilities, p: ContextParams): ToolContext {
  return {
    memory: {
      remember: (text, options) => {
        ctx.memory.remember(text, options);
        return {};
      },
      recall: (query, options) => ctx.memory.recall(query, options.limit).map((f) => ({ id: String(f.id), text: f.text, createdAt: f.createdAt })),
      forget: (target) => ('words' in target ? ctx.memory.forget(target.words) : p.state.buffer.forgetId(Number(target.id)) ? 1 : 0),
    },
    schedule: (alarm) => {
      const key = `tool:${alarm.at}:${alarm.note.slice(0, 32)}`;
      ctx.schedule({ at: alarm.at, note: alarm.note, key });
      return { id: key };
    },
    sendDm: (pubkey, text) => {
      ctx.sendDm(pubkey, text);
      return {};
    },
    publishNote: (text) => {
      ctx.publishNote(text);
      return {};
    },
    delegate: () =>
      Promise.reject(new Error('delegate is not available inside a tick: messages are sent only when the tick commits, so a reply cannot arrive within it')),
    signal: ctx.signal,
    now: ctx.now,
    capabilities,
    recordStep: (step) => p.record(step),
  };
}

