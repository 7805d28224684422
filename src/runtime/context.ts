/**
 * The TickContext a behavior gets: every effect (messages, memory, alarms, sats, LLM use) is
 * recorded in a TickState and nothing leaves it until the engine commits. Once the tick is over
 * (committed, failed or aborted) the context is closed and any late call throws.
 */
import { parsePublicKey } from '../protocol/nip19.js';
import type { JsonValue, ScheduleOp, ScheduleSpec } from '../storage/types.js';
import { ToolInputError, ToolRefusedError, ToolSuspendedError, type ToolCapabilities, type ToolContext } from '../think/tools/types.js';
import { entryCovers } from '../think/mcp/names.js';
import type { McpTools } from '../think/mcp/types.js';
import type { ThinkProvider } from '../think/types.js';
import type { TrajectoryStep } from '../trajectory/types.js';
import { DEFAULT_DELEGATION_TIMEOUT_MS, DELEGATION_ALARM_PREFIX, delegationKey, delegationRumorId, pruneDelegations, type DelegationOrigin, type DelegationRecord } from './delegation.js';
import type { Autonomy } from './agent-config.js';
import { APPROVAL_ALARM_PREFIX, approvalCode, approvalKey, approvalText, listApprovals, pruneApprovals, type ApprovalRecord } from './approvals.js';
import { approvalGate } from './autonomy.js';
import { parseDuration } from './duration.js';
import { capText } from '../relay/reply-parts.js';
import { BudgetExceededError } from './errors.js';
import type { TickBuffer } from './tick-buffer.js';
import type { AgentInfo, BudgetView, OutboundIntent, ScheduleRequest, ScheduledAlarm, TickContext, Trigger } from './types.js';

/**
 * The longest text one reply, DM or note carries (UTF-8 bytes): longer text is cut there with a
 * note saying how much was left out. Below it a long text is sent as several events (reply-parts.ts).
 */
export const MAX_TEXT_BYTES = 100_000;

/** The longest delegation text: a delegation DM is known by its rumor id, so it must fit one gift wrap. */
export const MAX_DELEGATE_TEXT_BYTES = 24_000;

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
  storedSchedule: { byKey(key: string): Promise<boolean>; byId(id: number): Promise<boolean> };
  /** What the agent's config grants its tool loop. */
  capabilities: ToolCapabilities;
  /** The agent's MCP servers, while it is awake. */
  mcp?: McpTools;
  /** The agent's LLM settings from its config. */
  llm: { system?: string; contextTokens: number };
  /** A hosted agent of this home by name (for delegate). */
  resolveAgent: (name: string) => Promise<{ pubkey: string; name: string } | undefined>;
  /** Set when this tick handles a delegation's or an approval's outcome: `reply` answers the original requester. */
  origin?: DelegationOrigin;
  /** The agent's autonomy (which tool calls ask the owner first). */
  autonomy: Autonomy;
}

/** The longest a delegation may wait for its reply: a week. */
export const MAX_DELEGATION_TIMEOUT_MS = 7 * 24 * 3600 * 1000;

/** Where the answer of this tick goes, and who asked. */
function originOf(p: ContextParams): DelegationOrigin {
  if (p.origin) return p.origin;
  const t = p.trigger;
  if (t.type === 'dm' || t.type === 'mention') return { requester: t.message.sender, inbound: t.inbound };
  if (t.type === 'manual') return { requester: t.message.sender };
  return { requester: p.agent.ownerPubkey };
}

/** Grants at most what the config grants: a requested list narrows it. */
function narrow(granted: ToolCapabilities, requested: ToolCapabilities | undefined): ToolCapabilities {
  if (!requested) return { tools: [...granted.tools], httpAllow: [...granted.httpAllow], dmAllow: [...granted.dmAllow] };
  const within = (ask: string[], have: string[]): string[] => ask.filter((x) => have.includes(x));
  let dmAllow: string[];
  if (granted.dmAllow.length === 0) dmAllow = [...requested.dmAllow];
  else if (requested.dmAllow.length === 0) dmAllow = [...granted.dmAllow];
  else {
    dmAllow = within(requested.dmAllow, granted.dmAllow);
    // An empty list would mean "anyone": nothing in common must allow no one.
    if (dmAllow.length === 0) dmAllow = ['(none)'];
  }
  // A grant of `server.*` covers a narrower `server.tool`; never the other way round.
  const tools = requested.tools.filter((t) => granted.tools.some((g) => entryCovers(g, t)));
  return { tools, httpAllow: within(requested.httpAllow, granted.httpAllow), dmAllow };
}

/** A delegate target as a hex key (and its name when given one); TypeError naming what was wrong. */
async function resolveTarget(p: ContextParams, target: string): Promise<{ pubkey: string; name?: string }> {
  const ref = typeof target === 'string' ? target.trim() : '';
  if (!ref) throw new TypeError('delegate: target must be a public key or an agent name');
  const byName = await p.resolveAgent(ref);
  if (byName) return byName;
  try {
    return { pubkey: parsePublicKey(ref) };
  } catch (error) {
    throw new TypeError(`delegate: "${ref.slice(0, 80)}" is neither an agent of this home nor a public key`, { cause: error });
  }
}

/** The text to send: a non-empty string (TypeError otherwise), cut at `maxBytes` with a note. */
function checkText(what: string, text: unknown, maxBytes = MAX_TEXT_BYTES): string {
  if (typeof text !== 'string' || text.trim() === '') throw new TypeError(`${what}: text must be a non-empty string`);
  return capText(text, maxBytes);
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
  let delegations = 0;
  const ownerOrSender = (): string => (p.trigger.type === 'dm' || p.trigger.type === 'mention' || p.trigger.type === 'manual' ? p.trigger.message.sender : p.agent.ownerPubkey);

  const ctx: TickContext = {
    agent: p.agent,
    trigger: p.trigger,
    signal: p.signal,
    now: p.now,
    memory: state.buffer,
    reply(text) {
      open();
      text = checkText('reply', text);
      if (p.origin) {
        if (p.origin.inbound) state.intents.push({ type: 'reply', to: p.origin.inbound, text });
        else state.intents.push({ type: 'dm', recipient: p.origin.requester, text });
      } else if (p.trigger.type === 'dm' || p.trigger.type === 'mention') state.intents.push({ type: 'reply', to: p.trigger.inbound, text });
      else state.intents.push({ type: 'dm', recipient: ownerOrSender(), text });
    },
    sendDm(pubkey, text) {
      open();
      text = checkText('sendDm', text);
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
    async cancelSchedule(keyOrId) {
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
        throw new BudgetExceededError('sats', `used ${view.sats.used + sats} of ${view.sats.limit}`, { used: view.sats.used + sats, limit: view.sats.limit });
      }
      state.sats += sats;
    },
    budget: () => p.budget(),
    ...(p.think ? { think: budgetedThink(p.think, p, open) } : {}),
    llm: p.llm,
    capabilities: p.capabilities,
    tools: (capabilities) => toolContext(ctx, narrow(p.capabilities, capabilities), p),
    async delegate(target, text, options = {}) {
      open();
      text = checkText('delegate', text, MAX_DELEGATE_TEXT_BYTES);
      const resolved = await resolveTarget(p, target);
      open();
      if (resolved.pubkey === p.agent.pubkey) throw new TypeError('delegate: an agent cannot delegate to itself');
      const timeoutMs = options.timeoutMs ?? DEFAULT_DELEGATION_TIMEOUT_MS;
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_DELEGATION_TIMEOUT_MS) {
        throw new TypeError(`delegate: timeoutMs must be between 1 and ${MAX_DELEGATION_TIMEOUT_MS} ms`);
      }
      const now = p.now();
      delegations += 1;
      // Unique per agent: the trigger's inbox row, the time and a counter within the tick.
      const id = `${p.trigger.inboxId}-${now.toString(36)}-${delegations}`;
      await pruneDelegations(state.buffer, now);
      open();
      const record: DelegationRecord = {
        id,
        target: resolved.pubkey,
        ...(resolved.name ? { targetName: resolved.name } : {}),
        text,
        subject: `delegation ${id}`,
        createdAt: now,
        deadline: now + Math.round(timeoutMs),
        origin: originOf(p),
        ...(options.state !== undefined ? { state: options.state } : {}),
        status: 'open',
      };
      // The DM's rumor is dated now, so its id (what a threaded reply's `e` tag names) is known and kept.
      const sentAt = Math.floor(now / 1000);
      record.rumorId = delegationRumorId(record, p.agent.pubkey, sentAt);
      await state.buffer.set(delegationKey(id), record as unknown as JsonValue);
      ctx.schedule({ at: record.deadline, key: `${DELEGATION_ALARM_PREFIX}${id}`, note: `delegation ${id} timed out` });
      state.intents.push({ type: 'dm', recipient: resolved.pubkey, text, subject: record.subject, createdAt: sentAt });
      return { id, target: resolved.pubkey };
    },
    async requestApproval(request) {
      open();
      const now = p.now();
      await pruneApprovals(state.buffer, now);
      const taken = new Set((await listApprovals(state.buffer)).map((r) => r.code));
      const code = approvalCode(`${p.agent.pubkey}:${p.trigger.inboxId}:${request.callId}:${now}`, (c) => taken.has(c));
      const origin = originOf(p);
      const record: ApprovalRecord = {
        code, tool: request.tool, callId: request.callId, arguments: request.arguments, reason: request.reason,
        ...(request.why ? { why: request.why } : {}),
        createdAt: now, deadline: now + p.autonomy.timeoutSeconds * 1000, origin,
        ...(request.state !== undefined ? { state: request.state } : {}),
        status: 'open',
      };
      await state.buffer.set(approvalKey(code), record as unknown as JsonValue);
      ctx.schedule({ at: record.deadline, key: `${APPROVAL_ALARM_PREFIX}${code}`, note: `approval ${code} timed out` });
      const text = approvalText(p.agent.name, record);
      // Asked by the owner's own DM: the request answers it (threaded); otherwise a new DM to the owner.
      if (origin.requester === p.agent.ownerPubkey && origin.inbound) state.intents.push({ type: 'reply', to: origin.inbound, text });
      else state.intents.push({ type: 'dm', recipient: p.agent.ownerPubkey, text });
      return { code, deadline: record.deadline };
    },
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
      if (view.llmCalls.limit !== undefined && view.llmCalls.used >= view.llmCalls.limit) throw new BudgetExceededError('llmCalls', `used ${view.llmCalls.used} of ${view.llmCalls.limit}`, { used: view.llmCalls.used, limit: view.llmCalls.limit });
      if (view.tokens.limit !== undefined && view.tokens.used >= view.tokens.limit) throw new BudgetExceededError('tokens', `used ${view.tokens.used} of ${view.tokens.limit}`, { used: view.tokens.used, limit: view.tokens.limit });
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
      recall: async (query, options) => (await ctx.memory.recall(query, options.limit)).map((f) => ({ id: String(f.id), text: f.text, createdAt: f.createdAt })),
      forget: async (target) => ('words' in target ? ctx.memory.forget(target.words) : (await p.state.buffer.forgetId(Number(target.id))) ? 1 : 0),
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
    // A tick cannot wait for a reply (its DM is sent at commit): check, then suspend the loop; the
    // caller commits the delegation with ctx.delegate and resumes in onDelegateReply.
    delegate: async (target, text, options) => {
      let resolved: { pubkey: string; name?: string };
      try {
        resolved = await resolveTarget(p, target);
      } catch (error) {
        throw new ToolInputError((error as Error).message.replace(/^delegate: /, ''), { cause: error });
      }
      if (resolved.pubkey === p.agent.pubkey) throw new ToolInputError('you cannot delegate to yourself');
      const allowed = capabilities.dmAllow.length === 0 || capabilities.dmAllow.some((entry) => entry === resolved.name || entry === target || safeKey(entry) === resolved.pubkey);
      if (!allowed) throw new ToolRefusedError(`delegating to ${resolved.name ?? `${resolved.pubkey.slice(0, 12)}…`} is not allowed: the agent's dmAllow list does not include it`);
      throw new ToolSuspendedError(`waiting for ${resolved.name ?? resolved.pubkey.slice(0, 12)}'s reply`, {
        target: resolved.pubkey,
        ...(resolved.name ? { targetName: resolved.name } : {}),
        text,
        timeoutMs: options.timeoutMs,
      });
    },
    ...(p.mcp ? { mcp: p.mcp } : {}),
    approval: approvalGate(p.autonomy, p.state.buffer, p.now),
    spendSats: (sats) => ctx.spendSats(sats),
    ownerPubkey: p.agent.ownerPubkey,
    signal: ctx.signal,
    now: ctx.now,
    capabilities,
    recordStep: (step) => p.record(step),
  };
}


function safeKey(entry: string): string | undefined {
  try {
    return parsePublicKey(entry);
  } catch {
    return undefined;
  }
}
