/**
 * Owner approvals across ticks, built like delegation (delegation.ts): a tool call that needs the
 * owner's approval suspends the tool loop; `ctx.requestApproval` commits a pending record (kv,
 * reserved prefix) with the loop's state, a DM to the owner saying what the agent wants to do and
 * why with a short code, and a timeout alarm. The owner's `/approve CODE` or `/deny CODE` (accepted
 * from the owner's key only, decided on arrival) or the alarm is matched to the record in a later
 * tick; closing it commits with that tick, so each approval has exactly one outcome, and a second
 * answer (or a late one) finds it closed and is only told so.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import type { JsonValue } from '../storage/types.js';
import type { DelegationOrigin } from './delegation.js';
import type { AgentBehavior, ApprovalResult, TickContext, TickMemory, Trigger } from './types.js';

/** The kv prefix of approval records. */
export const APPROVAL_PREFIX = '__approval/';
/** The schedule key prefix of approval timeouts. */
export const APPROVAL_ALARM_PREFIX = '__approval:';
/** Closed records are kept this long so a late answer is recognised. */
const KEEP_CLOSED_MS = 24 * 3600 * 1000;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** What `ctx.requestApproval` takes: the waiting call, why the gate asks, and the behavior's state. */
export interface ApprovalRequest {
  tool: string;
  callId: string;
  /** The call's arguments (JSON text), shown to the owner. */
  arguments: string;
  /** Why the runtime asks (the autonomy rule). */
  reason: string;
  /** Why the agent wants to do it (the model's words, or the request it answers). */
  why?: string;
  /** Handed back to onApproval (JSON): e.g. the suspended tool loop. */
  state?: JsonValue;
}

/** An approval as stored. */
export interface ApprovalRecord extends Omit<ApprovalRequest, 'state'> {
  code: string;
  createdAt: number;
  deadline: number;
  origin: DelegationOrigin;
  state?: JsonValue;
  status: 'open' | 'closed';
  decision?: 'approved' | 'denied' | 'timeout';
  decidedAt?: number;
}

const RecordSchema = z.looseObject({
  code: z.string(), tool: z.string(), callId: z.string(), arguments: z.string(), reason: z.string(), why: z.string().optional(),
  createdAt: z.number(), deadline: z.number(), origin: z.looseObject({ requester: z.string() }), state: z.unknown().optional(),
  status: z.enum(['open', 'closed']), decision: z.enum(['approved', 'denied', 'timeout']).optional(), decidedAt: z.number().optional(),
});

/** A short code for the owner to type: 6 Crockford base32 characters, derived (so a retried tick makes the same one). */
export function approvalCode(seed: string, taken: (code: string) => boolean): string {
  for (let n = 0; ; n++) {
    const bytes = sha256(new TextEncoder().encode(`${seed}:${n}`));
    const code = [...bytes.slice(0, 6)].map((b) => CROCKFORD[b % 32]).join('');
    if (!taken(code)) return code;
  }
}

/** Every readable approval record (malformed rows skipped), oldest first. */
export async function listApprovals(memory: Pick<TickMemory, 'list'>): Promise<ApprovalRecord[]> {
  const out: ApprovalRecord[] = [];
  for (const { value } of await memory.list(APPROVAL_PREFIX)) {
    const parsed = RecordSchema.safeParse(value);
    if (parsed.success) out.push(parsed.data as unknown as ApprovalRecord);
  }
  return out.sort((a, b) => a.createdAt - b.createdAt || (a.code < b.code ? -1 : 1));
}

/** The kv key of an approval record. */
export function approvalKey(code: string): string {
  return `${APPROVAL_PREFIX}${code}`;
}

/** Drops closed records older than a day. */
export async function pruneApprovals(memory: Pick<TickMemory, 'list' | 'delete'>, now: number): Promise<void> {
  for (const r of await listApprovals(memory)) if (r.status === 'closed' && (r.decidedAt ?? r.createdAt) + KEEP_CLOSED_MS < now) await memory.delete(approvalKey(r.code));
}

/** The DM the owner gets: what, why, the rule that asks, and how to answer. */
export function approvalText(agentName: string, r: ApprovalRecord): string {
  const args = r.arguments.length > 1500 ? `${r.arguments.slice(0, 1500)}…` : r.arguments;
  return [
    `${agentName} wants to call ${r.tool} with ${args}`,
    ...(r.why ? [`Why: ${r.why.slice(0, 500)}`] : []),
    `Asking because ${r.reason}.`,
    `Reply /approve ${r.code} or /deny ${r.code} (denied automatically at ${new Date(r.deadline).toISOString()}).`,
  ].join('\n');
}

/** An owner's `/approve CODE` or `/deny CODE`. */
export interface ApprovalCommand {
  decision: 'approve' | 'deny';
  code: string;
}

/** `/approve CODE` or `/deny CODE` (case-insensitive), else undefined. */
export function parseApprovalCommand(text: string): ApprovalCommand | undefined {
  const m = /^\s*\/(approve|deny)\s+([0-9a-z]{4,12})\s*$/i.exec(text);
  return m ? { decision: m[1]!.toLowerCase() as ApprovalCommand['decision'], code: m[2]!.toUpperCase() } : undefined;
}

/** What a trigger means for the agent's approvals. */
export type ApprovalMatch =
  | { type: 'decision'; record: ApprovalRecord; approved: boolean }
  | { type: 'timeout'; record: ApprovalRecord }
  /** An answer for an approval already decided (or a timeout after the answer). */
  | { type: 'stale'; record: ApprovalRecord; command?: ApprovalCommand }
  | { type: 'unknown'; command: ApprovalCommand };

/** Matches an owner's approval command, or an approval's timeout alarm, to its record. */
export async function matchApproval(memory: Pick<TickMemory, 'list'>, trigger: Trigger, command?: ApprovalCommand): Promise<ApprovalMatch | undefined> {
  if (trigger.type === 'alarm') {
    const key = trigger.alarm.key;
    if (!key?.startsWith(APPROVAL_ALARM_PREFIX)) return undefined;
    const record = (await listApprovals(memory)).find((r) => r.code === key.slice(APPROVAL_ALARM_PREFIX.length));
    if (!record) return undefined;
    return record.status === 'open' ? { type: 'timeout', record } : { type: 'stale', record };
  }
  if (trigger.type !== 'dm' || !command) return undefined;
  const record = (await listApprovals(memory)).find((r) => r.code === command.code);
  if (!record) return { type: 'unknown', command };
  if (record.status !== 'open') return { type: 'stale', record, command };
  return { type: 'decision', record, approved: command.decision === 'approve' };
}

function staleText(match: Extract<ApprovalMatch, { type: 'stale' | 'unknown' }>): string {
  if (match.type === 'unknown') return `There is no approval ${match.command.code} waiting.`;
  const { record } = match;
  const how = record.decision === 'timeout' ? 'denied: no answer came in time' : record.decision ?? 'closed';
  return `Approval ${record.code} (${record.tool}) was already decided: ${how}${record.decidedAt ? ` at ${new Date(record.decidedAt).toISOString()}` : ''}.`;
}

/**
 * Runs a matched approval outcome in the current tick: closes the record (and the alarm), records the
 * decision as a step, answers the owner's command (`ack`), and hands the outcome to onApproval, which
 * resumes the loop. A stale or unknown answer is only told so.
 */
export async function handleApproval(ctx: TickContext, behavior: AgentBehavior, match: ApprovalMatch, memory: TickMemory, ack: (text: string) => void): Promise<void> {
  if (match.type === 'unknown' || match.type === 'stale') {
    if (match.type === 'unknown' || match.command) ack(staleText(match));
    else ctx.log('approval already decided; timeout ignored', { approval: match.record.code });
    return;
  }
  const { record } = match;
  const decision = match.type === 'timeout' ? 'timeout' : match.approved ? 'approved' : 'denied';
  const now = ctx.now();
  await memory.set(approvalKey(record.code), { ...record, status: 'closed', decision, decidedAt: now } as unknown as JsonValue);
  if (match.type === 'decision') await ctx.cancelSchedule(`${APPROVAL_ALARM_PREFIX}${record.code}`);
  await ctx.step('state', 'approval', () => {}, { code: record.code, tool: record.tool, callId: record.callId, decision });
  if (match.type === 'decision') ack(match.approved ? `Approved ${record.code}: ${record.tool} runs now.` : `Denied ${record.code}: ${record.tool} will not run.`);
  const result: ApprovalResult = {
    code: record.code,
    tool: record.tool,
    callId: record.callId,
    approved: decision === 'approved',
    decision,
    requester: record.origin.requester,
    ...(record.state !== undefined ? { state: record.state } : {}),
  };
  if (behavior.onApproval) return behavior.onApproval(ctx, result);
  ctx.reply(`My owner ${decision === 'approved' ? 'approved' : 'did not approve'} ${record.tool}, but I cannot continue that request.`);
}
