/**
 * Delegation across ticks. A tick cannot wait for another agent's reply (its DM is only sent when
 * it commits), so `ctx.delegate` commits the DM together with a pending record in the agent's kv
 * (reserved prefix) and a timeout alarm, and the tick ends. Later ticks match the delegate's reply
 * DM (or the alarm) to the record and hand the result to the behavior's `onDelegateReply`; closing
 * the record commits with that tick, so a reply is handled exactly once, and a reply after the
 * timeout (or a second one) finds the record closed and is ignored.
 */
import { z } from 'zod';
import { createChatRumor } from '../protocol/nip17.js';
import type { InboundMessage } from '../relay/types.js';
import type { JsonValue } from '../storage/types.js';
import type { AgentBehavior, DelegationResult, TickContext, TickMemory, Trigger } from './types.js';

/** The kv prefix of pending (and recently closed) delegations. */
export const DELEGATION_PREFIX = '__delegation/';
/** The schedule key prefix of delegation timeouts. */
export const DELEGATION_ALARM_PREFIX = '__delegation:';
/** Closed records are kept this long so a late reply is recognised and dropped. */
export const KEEP_CLOSED_MS = 24 * 3600 * 1000;
/** The default time to wait for a delegate's reply. */
export const DEFAULT_DELEGATION_TIMEOUT_MS = 60_000;

/** Whom the final answer goes to: the sender of the message that started the delegation. */
export interface DelegationOrigin {
  requester: string;
  /** The message to answer by its own protocol (absent for pokes and alarms: a DM then). */
  inbound?: InboundMessage;
}

/** A delegation as stored. */
export interface DelegationRecord {
  id: string;
  /** The delegate's hex public key. */
  target: string;
  targetName?: string;
  text: string;
  /** The NIP-17 subject of the request; replies by this runtime carry it back. */
  subject: string;
  createdAt: number;
  deadline: number;
  origin: DelegationOrigin;
  /** What the behavior needs to continue (e.g. the tool loop's conversation). */
  state?: JsonValue;
  status: 'open' | 'closed';
  closedAt?: number;
  /** The id of the kind 14 rumor that carried the request (a threaded reply's `e` tag names it). */
  rumorId?: string;
}

const RecordSchema = z.looseObject({
  id: z.string(),
  target: z.string().regex(/^[0-9a-f]{64}$/),
  targetName: z.string().optional(),
  text: z.string(),
  subject: z.string(),
  createdAt: z.number(),
  deadline: z.number(),
  origin: z.looseObject({ requester: z.string(), inbound: z.looseObject({}).optional() }),
  state: z.unknown().optional(),
  status: z.enum(['open', 'closed']),
  closedAt: z.number().optional(),
  rumorId: z.string().optional(),
});

/** What a later tick found for its trigger. */
export type DelegationMatch =
  | { type: 'reply'; record: DelegationRecord; reply: string }
  | { type: 'timeout'; record: DelegationRecord }
  /** A reply or timeout for a delegation already handled: recorded and dropped. */
  | { type: 'stale'; record: DelegationRecord; why: 'late-reply' | 'timeout-after-reply' };

/** Every readable delegation record of the agent (malformed rows are skipped). */
export async function listDelegations(memory: Pick<TickMemory, 'list'>): Promise<DelegationRecord[]> {
  const out: DelegationRecord[] = [];
  for (const { value } of await memory.list(DELEGATION_PREFIX)) {
    const parsed = RecordSchema.safeParse(value);
    if (parsed.success) out.push(parsed.data as unknown as DelegationRecord);
  }
  return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
}

/**
 * True when a DM from `sender` answers one of the agent's delegations: it has an open one to the
 * sender, or the DM carries the subject of one (a late reply, let in to be recorded and dropped).
 * Such a DM passes the agent's DM policy: the agent asked for it.
 */
export async function awaitsReplyFrom(memory: Pick<TickMemory, 'list'>, sender: string, subject?: string): Promise<boolean> {
  return (await listDelegations(memory)).some((r) => r.target === sender && (r.status === 'open' || r.subject === subject));
}

/** The id of the kind 14 rumor carrying `record` to its delegate when sent at unix second `at`. */
export function delegationRumorId(record: Pick<DelegationRecord, 'target' | 'text' | 'subject'>, agentPubkey: string, at: number): string {
  return createChatRumor(agentPubkey, { recipients: [record.target], content: record.text, createdAt: at, subject: record.subject }).id;
}

/** The delegation whose DM a reply threads to (its `e` tag = that DM's rumor id), newest first. */
function byRumorId(records: DelegationRecord[], inReplyTo: string): DelegationRecord | undefined {
  return [...records].reverse().find((record) => record.rumorId === inReplyTo);
}

/**
 * Matches a trigger to a delegation: a DM from a delegate (by the delegation DM its `e` tag answers,
 * else by the subject it carries back, else its oldest open delegation), or a delegation's timeout alarm.
 */
export async function matchDelegation(memory: Pick<TickMemory, 'list'>, trigger: Trigger): Promise<DelegationMatch | undefined> {
  if (trigger.type === 'alarm') {
    const key = trigger.alarm.key;
    if (!key?.startsWith(DELEGATION_ALARM_PREFIX)) return undefined;
    const id = key.slice(DELEGATION_ALARM_PREFIX.length);
    const record = (await listDelegations(memory)).find((r) => r.id === id);
    if (!record) return undefined;
    return record.status === 'open' ? { type: 'timeout', record } : { type: 'stale', record, why: 'timeout-after-reply' };
  }
  if (trigger.type !== 'dm') return undefined;
  const { sender, subject, text } = trigger.message;
  const mine = (await listDelegations(memory)).filter((r) => r.target === sender);
  if (mine.length === 0) return undefined;
  const { inReplyTo } = trigger.inbound;
  const byThread = typeof inReplyTo === 'string' ? byRumorId(mine, inReplyTo) : undefined;
  const answered = byThread ?? (subject !== undefined ? mine.find((r) => r.subject === subject) : undefined);
  if (answered) return answered.status === 'open' ? { type: 'reply', record: answered, reply: text } : { type: 'stale', record: answered, why: 'late-reply' };
  const open = mine.find((r) => r.status === 'open');
  return open ? { type: 'reply', record: open, reply: text } : undefined;
}

/** The kv key of a delegation record. */
export function delegationKey(id: string): string {
  return `${DELEGATION_PREFIX}${id}`;
}

/** Marks a record closed (in the tick's buffer: it commits with the tick). */
export async function closeDelegation(memory: Pick<TickMemory, 'set'>, record: DelegationRecord, now: number): Promise<void> {
  await memory.set(delegationKey(record.id), { ...record, status: 'closed', closedAt: now } as unknown as JsonValue);
}

/** Drops closed records older than KEEP_CLOSED_MS. */
export async function pruneDelegations(memory: Pick<TickMemory, 'list' | 'delete'>, now: number): Promise<void> {
  for (const r of await listDelegations(memory)) {
    if (r.status === 'closed' && (r.closedAt ?? r.createdAt) + KEEP_CLOSED_MS < now) await memory.delete(delegationKey(r.id));
  }
}

/**
 * Runs a matched delegation outcome in the current tick: closes the record (and the timeout alarm)
 * and calls `onDelegateReply`, or forwards the reply to the requester when the behavior has none.
 * A stale match is only logged: its outcome was handled by an earlier tick.
 */
export async function handleDelegation(ctx: TickContext, behavior: AgentBehavior, match: DelegationMatch, memory: TickMemory): Promise<void> {
  const { record } = match;
  if (match.type === 'stale') {
    ctx.log('delegation already handled; ignored', { delegation: record.id, why: match.why });
    return;
  }
  await closeDelegation(memory, record, ctx.now());
  if (match.type === 'reply') await ctx.cancelSchedule(`${DELEGATION_ALARM_PREFIX}${record.id}`);
  const result: DelegationResult = {
    id: record.id,
    target: record.target,
    ...(record.targetName !== undefined ? { targetName: record.targetName } : {}),
    text: record.text,
    timedOut: match.type === 'timeout',
    ...(match.type === 'reply' ? { reply: match.reply } : {}),
    ...(record.state !== undefined ? { state: record.state } : {}),
    requester: record.origin.requester,
  };
  if (behavior.onDelegateReply) return behavior.onDelegateReply(ctx, result);
  const who = record.targetName ?? `${record.target.slice(0, 12)}…`;
  ctx.reply(match.type === 'reply' ? match.reply : `No reply from ${who} in time.`);
}
