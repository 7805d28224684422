/**
 * zod schemas for everything that crosses the wire (NIP-01 client and relay messages).
 * Parse at the trust boundary; a frame that fails is dropped and counted by the caller, never trusted.
 */
import { z } from 'zod';
import type { NostrEvent } from './event.js';
import type { Filter } from './filter.js';

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters');
const hex64 = z.string().regex(/^[0-9a-f]{128}$/, 'must be 128 lowercase hex characters');

/** An unsigned event's shape (a NIP-59 rumor): every field but the signature. */
export const UnsignedEventSchema = z.object({
  id: hex32,
  pubkey: hex32,
  created_at: z.number().int().nonnegative(),
  kind: z.number().int().min(0).max(65535),
  tags: z.array(z.array(z.string())),
  content: z.string(),
});

/** A signed event's shape (not its signature's validity: see crypto.verifyEvent). */
export const EventSchema: z.ZodType<NostrEvent> = UnsignedEventSchema.extend({ sig: hex64 });

const TAG_KEY = /^#[a-zA-Z]$/;
const KNOWN_FIELDS = new Set(['ids', 'authors', 'kinds', 'since', 'until', 'limit', 'search']);

/** A NIP-01 filter; unknown keys are refused so a typo does not silently widen a subscription. */
export const FilterSchema: z.ZodType<Filter> = z
  .record(z.string(), z.unknown())
  .superRefine((obj, ctx) => {
    for (const key of Object.keys(obj)) {
      if (!KNOWN_FIELDS.has(key) && !TAG_KEY.test(key)) {
        ctx.addIssue({ code: 'custom', message: `unknown filter field "${key}"`, path: [key] });
      }
    }
  })
  .pipe(
    z
      .object({
        ids: z.array(z.string().regex(/^[0-9a-f]{1,64}$/)).optional(),
        authors: z.array(z.string().regex(/^[0-9a-f]{1,64}$/)).optional(),
        kinds: z.array(z.number().int().min(0).max(65535)).optional(),
        since: z.number().int().nonnegative().optional(),
        until: z.number().int().nonnegative().optional(),
        limit: z.number().int().nonnegative().optional(),
        search: z.string().optional(),
      })
      .catchall(z.array(z.string())),
  ) as unknown as z.ZodType<Filter>;

const subId = z.string().min(1);

/** Messages a client sends to a relay. */
export const ClientMessageSchema = z.union([
  z.tuple([z.literal('EVENT'), EventSchema]),
  z.tuple([z.literal('REQ'), subId], FilterSchema),
  z.tuple([z.literal('COUNT'), subId], FilterSchema),
  z.tuple([z.literal('CLOSE'), subId]),
  z.tuple([z.literal('AUTH'), EventSchema]),
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

/** Messages a relay sends to a client. */
export const RelayMessageSchema = z.union([
  z.tuple([z.literal('EVENT'), subId, EventSchema]),
  z.tuple([z.literal('OK'), hex32, z.boolean(), z.string()]),
  z.tuple([z.literal('EOSE'), subId]),
  z.tuple([z.literal('CLOSED'), subId, z.string()]),
  z.tuple([z.literal('NOTICE'), z.string()]),
  z.tuple([z.literal('AUTH'), z.string()]),
  z.tuple([z.literal('COUNT'), subId, z.object({ count: z.number().int().nonnegative(), approximate: z.boolean().optional() })]),
]);
export type RelayMessage = z.infer<typeof RelayMessageSchema>;

/** One frame from a relay: the message, or why it is none (never throws, whatever the text). */
export function parseRelayFrame(text: string): { ok: true; message: RelayMessage } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'frame is not JSON' };
  }
  const parsed = RelayMessageSchema.safeParse(json);
  if (!parsed.success) return { ok: false, problem: `frame is not a relay message (${Array.isArray(json) && typeof json[0] === 'string' ? `verb ${JSON.stringify(json[0].slice(0, 20))}` : 'not an array with a verb'})` };
  return { ok: true, message: parsed.data };
}

/** The machine-readable prefixes NIP-01 defines for OK and CLOSED messages. */
export const REJECTION_PREFIXES = [
  'duplicate',
  'pow',
  'blocked',
  'rate-limited',
  'invalid',
  'restricted',
  'mute',
  'error',
  'auth-required',
] as const;
export type RejectionPrefix = (typeof REJECTION_PREFIXES)[number];

/** The prefix of an OK/CLOSED message (`blocked: spam` → `blocked`), if it has a known one. */
export function rejectionPrefix(message: string): RejectionPrefix | undefined {
  const head = message.split(':', 1)[0]?.trim();
  return (REJECTION_PREFIXES as readonly string[]).includes(head ?? '') ? (head as RejectionPrefix) : undefined;
}
