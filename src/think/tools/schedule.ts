/** The schedule tool: an alarm with a note, in some seconds or at an ISO time. */
import { z } from 'zod';
import { defineTool } from './define.js';
import { ToolInputError } from './types.js';

/** The furthest ahead an alarm may be set: one year. */
export const MAX_ALARM_AHEAD_MS = 366 * 24 * 3600 * 1000;

/** Sets an alarm that wakes the agent later with the note. */
export const scheduleTool = defineTool({
  name: 'schedule',
  external: false,
  description:
    'Set an alarm that wakes you later with a note (e.g. a reminder). Give exactly one of in_seconds or at.',
  schema: z
    .object({
      note: z.string().trim().min(1).max(1000).describe('What to do or remind about when the alarm fires.'),
      in_seconds: z.number().int().min(1).max(MAX_ALARM_AHEAD_MS / 1000).optional().describe('Fire after this many seconds.'),
      at: z.iso.datetime({ offset: true }).optional().describe('Fire at this ISO 8601 time, e.g. 2030-01-01T09:00:00Z.'),
    })
    .refine((a) => (a.in_seconds === undefined) !== (a.at === undefined), 'give exactly one of in_seconds or at'),
  async run({ note, in_seconds, at }, ctx) {
    const now = ctx.now();
    const when = in_seconds !== undefined ? now + in_seconds * 1000 : Date.parse(at!);
    if (when <= now) throw new ToolInputError(`the time ${new Date(when).toISOString()} is in the past (now is ${new Date(now).toISOString()})`);
    if (when - now > MAX_ALARM_AHEAD_MS) throw new ToolInputError('alarms can be set at most one year ahead');
    const { id } = await ctx.schedule({ at: when, note });
    return { ok: true, id, at: new Date(when).toISOString() };
  },
});
