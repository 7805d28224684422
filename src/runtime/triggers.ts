/**
 * Triggers as inbox rows: what each trigger type stores as its payload, and how a stored row is
 * read back (zod-checked: a row written by an older version or by hand is refused with a reason,
 * never run half-parsed).
 */
import { z } from 'zod';
import { EventSchema } from '../protocol/schema.js';
import type { InboundMessage } from '../relay/types.js';
import type { InboxEntry, JsonValue, NewInboxEntry } from '../storage/types.js';
import type { TrajectoryTrigger } from '../trajectory/types.js';
import type { ApprovalCommand } from './approvals.js';
import type { OwnerCommand } from './policy.js';
import type { IncomingMessage, Trigger } from './types.js';

const hex32 = z.string().regex(/^[0-9a-f]{64}$/);

const InboundMessageSchema = z.looseObject({
  kind: z.enum(['dm', 'mention']),
  protocol: z.enum(['nip17', 'nip04', 'note']),
  agentPubkey: hex32,
  sender: hex32,
  text: z.string(),
  eventId: z.string(),
  rumorId: z.string().optional(),
  subject: z.string().optional(),
  replyTo: z.looseObject({ parentId: z.string(), participants: z.array(z.string()), rootId: z.string().optional(), relay: z.string().optional() }),
  files: z.array(z.looseObject({ url: z.string() })).optional(),
  createdAt: z.number(),
  relay: z.string(),
}) as unknown as z.ZodType<InboundMessage>;

/** Payload of a dm/mention row. `ownerCommand` is set only when the owner's key sent one; `slowDown` marks a rate-limited sender's one notice. */
const MessagePayload = z.object({
  message: InboundMessageSchema,
  ownerCommand: z.enum(['pause', 'resume', 'status', 'budget']).optional(),
  slowDown: z.object({ retryAfterMs: z.number() }).optional(),
  /** The owner's `/approve CODE` or `/deny CODE`. */
  approval: z.object({ decision: z.enum(['approve', 'deny']), code: z.string() }).optional(),
  /** Someone else's `/approve` or `/deny`: refused and recorded. */
  approvalRefused: z.literal(true).optional(),
});
/** Payload of a manual row: a poke's text, or a lifecycle action. */
const ManualPayload = z.object({ text: z.string().optional(), action: z.enum(['create']).optional(), from: hex32.optional() });
/** Payload the schedule store writes for an alarm; `payload` is what ctx.schedule stored. */
const AlarmPayload = z.object({
  scheduleId: z.number(),
  key: z.string().nullable().optional(),
  dueAt: z.number(),
  payload: z.object({ note: z.string().default(''), data: z.unknown().optional() }).nullable().optional(),
});
const WatchRefSchema = z.object({ id: z.string(), prompt: z.string().optional() });
/** Payload of an `event` row: a watched event (with the watch that matched), or a webhook delivery. */
const EventPayload = z.union([
  z.object({ event: EventSchema, watch: WatchRefSchema.optional() }),
  z.object({
    webhook: z.object({ hook: z.string(), deliveryId: z.string(), body: z.unknown(), receivedAt: z.number(), prompt: z.string().optional() }),
  }),
]);

/** A pending row read back, with the runtime's extra flags. */
export interface ParsedTrigger {
  trigger: Trigger;
  ownerCommand?: OwnerCommand;
  slowDown?: { retryAfterMs: number };
  action?: 'create';
  approval?: ApprovalCommand;
  approvalRefused?: true;
}

/** The inbox row for a received DM or mention (dedupe on the outer event id). */
export function messageEntry(
  agentIndex: number,
  message: InboundMessage,
  extra: { ownerCommand?: OwnerCommand; slowDown?: { retryAfterMs: number }; approval?: ApprovalCommand; approvalRefused?: true },
  now: number,
): NewInboxEntry {
  return { agentIndex, trigger: message.kind, eventId: message.eventId, sender: message.sender, payload: { message, ...extra }, now };
}

function incoming(message: InboundMessage, owner: string): IncomingMessage {
  return {
    kind: message.kind,
    protocol: message.protocol,
    sender: message.sender,
    text: message.text,
    fromOwner: message.sender === owner,
    eventId: message.rumorId ?? message.eventId,
    ...(message.subject !== undefined ? { subject: message.subject } : {}),
    createdAt: message.createdAt,
  };
}

/** Reads a stored row as a Trigger; throws a lowercase Error naming what is wrong with the row. */
export function parseTrigger(entry: InboxEntry, ownerPubkey: string): ParsedTrigger {
  const fail = (error: z.ZodError): never => {
    throw new Error(`inbox row ${entry.id} (${entry.trigger}) has an invalid payload: ${z.prettifyError(error).replace(/\n\s*/g, ' ')}`);
  };
  switch (entry.trigger) {
    case 'dm':
    case 'mention': {
      const p = MessagePayload.safeParse(entry.payload);
      if (!p.success) return fail(p.error);
      const { message } = p.data;
      return {
        trigger: entry.trigger === 'dm'
          ? { type: 'dm', inboxId: entry.id, message: incoming(message, ownerPubkey), inbound: message }
          : { type: 'mention', inboxId: entry.id, message: incoming(message, ownerPubkey), inbound: message },
        ...(p.data.ownerCommand ? { ownerCommand: p.data.ownerCommand } : {}),
        ...(p.data.slowDown ? { slowDown: p.data.slowDown } : {}),
        ...(p.data.approval ? { approval: p.data.approval } : {}),
        ...(p.data.approvalRefused ? { approvalRefused: true as const } : {}),
      };
    }
    case 'manual': {
      const p = ManualPayload.safeParse(entry.payload ?? {});
      if (!p.success) return fail(p.error);
      const sender = p.data.from ?? ownerPubkey;
      const message: IncomingMessage = { kind: 'manual', protocol: 'manual', sender, text: p.data.text ?? '', fromOwner: sender === ownerPubkey, createdAt: Math.floor(entry.createdAt / 1000) };
      return { trigger: { type: 'manual', inboxId: entry.id, message }, ...(p.data.action ? { action: p.data.action } : {}) };
    }
    case 'alarm': {
      const p = AlarmPayload.safeParse(entry.payload);
      if (!p.success) return fail(p.error);
      const stored = p.data.payload ?? { note: '' };
      const alarm = {
        scheduleId: p.data.scheduleId,
        note: stored.note,
        dueAt: p.data.dueAt,
        firedAt: entry.createdAt,
        ...(p.data.key ? { key: p.data.key } : {}),
        ...(stored.data !== undefined ? { data: stored.data as JsonValue } : {}),
      };
      return { trigger: { type: 'alarm', inboxId: entry.id, alarm } };
    }
    case 'event': {
      const p = EventPayload.safeParse(entry.payload);
      if (!p.success) return fail(p.error);
      if ('webhook' in p.data) {
        const w = p.data.webhook;
        const webhook = { hook: w.hook, deliveryId: w.deliveryId, body: (w.body ?? null) as JsonValue, receivedAt: w.receivedAt, ...(w.prompt !== undefined ? { prompt: w.prompt } : {}) };
        return { trigger: { type: 'event', source: 'webhook', inboxId: entry.id, webhook } };
      }
      const watch = p.data.watch ? { id: p.data.watch.id, ...(p.data.watch.prompt !== undefined ? { prompt: p.data.watch.prompt } : {}) } : undefined;
      return { trigger: { type: 'event', source: 'watch', inboxId: entry.id, event: p.data.event, ...(watch ? { watch } : {}) } };
    }
  }
}

/** The trajectory's view of a trigger (text included; the trajectory layer redacts before publishing). */
export function trajectoryTrigger(trigger: Trigger, at: number): TrajectoryTrigger {
  switch (trigger.type) {
    case 'dm':
    case 'mention':
      return { type: trigger.type, eventId: trigger.inbound.eventId, from: trigger.message.sender, text: trigger.message.text, at };
    case 'manual':
      return { type: 'manual', from: trigger.message.sender, ...(trigger.message.text ? { text: trigger.message.text } : {}), at };
    case 'alarm':
      return { type: 'alarm', ...(trigger.alarm.note ? { text: trigger.alarm.note } : {}), at };
    case 'event':
      if (trigger.source === 'webhook') return { type: 'event', text: `webhook ${trigger.webhook.hook} (${trigger.webhook.deliveryId})`, at };
      return { type: 'event', eventId: trigger.event.id, from: trigger.event.pubkey, at };
  }
}
