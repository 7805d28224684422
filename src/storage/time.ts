/**
 * Pure time arithmetic of schedules and budgets: when a schedule first fires, when it fires next
 * after a firing, and which UTC day a timestamp counts against. No clock inside: `now` comes in.
 */
import { z } from 'zod';
import { nextCronTime, parseCron } from './cron.js';
import { StorageInputError } from './errors.js';
import type { ScheduleSpec } from './runtime-types.js';

const ms = z.number().int().nonnegative();

/** Validates a schedule spec from an untrusted caller (a behavior, a tool call, the control API). */
export const ScheduleSpecSchema: z.ZodType<ScheduleSpec> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('at'), at: ms }),
  z.object({ type: z.literal('delayed'), delayMs: ms }),
  z.object({ type: z.literal('interval'), everyMs: z.number().int().positive() }),
  z.object({
    type: z.literal('cron'),
    expr: z.string().superRefine((expr, ctx) => {
      try {
        parseCron(expr);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
  }),
]);

/** Parses a spec or throws StorageInputError naming the field. */
export function parseScheduleSpec(spec: unknown): ScheduleSpec {
  const parsed = ScheduleSpecSchema.safeParse(spec);
  if (!parsed.success) throw new StorageInputError(`invalid schedule: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  return parsed.data;
}

/** When a new schedule first fires. An `at` in the past fires at once (nextAt ≤ now). */
export function firstRunAt(spec: ScheduleSpec, now: number): number {
  switch (spec.type) {
    case 'at':
      return spec.at;
    case 'delayed':
      return now + spec.delayMs;
    case 'interval':
      return now + spec.everyMs;
    case 'cron':
      return nextCronTime(spec.expr, now);
  }
}

/**
 * When a recurring schedule fires after firing at `now` (it was due at `dueAt`): the next
 * occurrence strictly after `now`, so periods missed while the daemon was down fire once, not
 * once each. Intervals keep their phase. Undefined for one-shots.
 */
export function nextRunAt(spec: ScheduleSpec, dueAt: number, now: number): number | undefined {
  switch (spec.type) {
    case 'interval': {
      const periods = Math.max(1, Math.floor((now - dueAt) / spec.everyMs) + 1);
      return dueAt + periods * spec.everyMs;
    }
    case 'cron':
      return nextCronTime(spec.expr, Math.max(now, dueAt));
    default:
      return undefined;
  }
}

/** The UTC day (`YYYY-MM-DD`) a timestamp's usage counts against. */
export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}
