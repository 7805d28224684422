/**
 * zod schemas for what crosses a trust boundary here: the content of a tick event (decrypted or
 * public, read back from relays) and the chain state the runtime stores between ticks.
 */
import { z } from 'zod';
import type { TrajectoryChain } from './types.js';

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters');
const count = z.number().int().nonnegative();
const epochMs = z.number().int().nonnegative();

/** Token counts (input = prompt, output = completion). */
export const TokensSchema = z.object({ input: count, output: count });

/** One step of a tick as published. */
export const StepSchema = z.object({
  type: z.enum(['perceive', 'think', 'tool', 'message', 'state', 'error']),
  at: epochMs,
  ms: z.number().nonnegative(),
  name: z.string().optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
  tokens: TokensSchema.optional(),
});

/** What woke the tick, as published (`text` may be `sha256:<hex>` in public mode). */
export const TriggerSchema = z.object({
  type: z.enum(['dm', 'mention', 'alarm', 'event', 'manual']),
  eventId: hex32.optional(),
  from: hex32.optional(),
  text: z.string().optional(),
  at: epochMs,
});

/** Version 1 of a tick event's content (canonical JSON; NIP-44 encrypted to the owner when private). */
export const TickContentSchema = z.object({
  v: z.literal(1),
  startedAt: epochMs,
  endedAt: epochMs,
  trigger: TriggerSchema,
  steps: z.array(StepSchema),
  tokens: TokensSchema,
  budget: z.object({ computeMs: z.number().nonnegative(), llmCalls: count, tokens: count }),
  outcome: z.enum(['ok', 'error', 'aborted', 'refused']),
  error: z.string().optional(),
  /** Ids of the events the tick queued in the outbox. */
  sent: z.array(hex32),
  /** Present when the content was cut to fit the size limit. */
  truncated: z.object({ strings: count, details: count, steps: count }).optional(),
});

/** A tick event's content. */
export type TickContent = z.infer<typeof TickContentSchema>;

/** The per-agent chain state, as read back from storage. */
export const TrajectoryChainSchema: z.ZodType<TrajectoryChain> = z.object({
  lastId: hex32.nullable(),
  lastSeq: count,
  session: z
    .object({
      d: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
      firstSeq: z.number().int().positive(),
      ticks: z.number().int().positive(),
      hash: hex32,
      startedAt: count,
      endedAt: count,
      createdAt: count,
    })
    .nullable(),
});
