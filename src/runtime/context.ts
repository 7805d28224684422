/**
 * The TickContext a behavior gets: every effect (messages, memory, alarms, sats, LLM use) is
 * recorded in a TickState and nothing leaves it until the engine commits. Once the tick is over
 * (committed, failed or aborted) the context is closed and any late call throws.
 *
 * This file is the builder only; the parts it applies live beside it in context/: text limits
 * (text.ts), schedule requests (schedule-spec.ts), capability narrowing and delegate targets
 * (grants.ts), the budgeted LLM and the tool loop's context (tools.ts), and the shared shapes
 * (params.ts). Their public names are re-exported here, where callers have always found them.
 */
import { parsePublicKey } from '../protocol/nip19.js';
import type { JsonValue } from '../storage/types.js';
import { DEFAULT_DELEGATION_TIMEOUT_MS, DELEGATION_ALARM_PREFIX, delegationKey, delegationRumorId, pruneDelegations, type DelegationOrigin, type DelegationRecord } from './delegation.js';
import { APPROVAL_ALARM_PREFIX, approvalCode, approvalKey, approvalText, listApprovals, pruneApprovals, type ApprovalRecord } from './approvals.js';
import { BudgetExceededError } from './errors.js';
import { narrowCapabilities, resolveTarget } from './context/grants.js';
import type { ContextParams } from './context/params.js';
import { scheduleSpec } from './context/schedule-spec.js';
import { checkText, MAX_DELEGATE_TEXT_BYTES } from './context/text.js';
import { budgetedThink, toolContext } from './context/tools.js';
import type { ScheduledAlarm, TickContext } from './types.js';

export { MAX_DELEGATE_TEXT_BYTES, MAX_TEXT_BYTES } from './context/text.js';
export { scheduleSpec } from './context/schedule-spec.js';
export type { ContextParams, TickState } from './context/params.js';

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
    tools: (capabilities) => toolContext(ctx, narrowCapabilities(p.capabilities, capabilities), p),
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
