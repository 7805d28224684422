/**
 * `ctx.schedule` requests (in / at / every / cron, as numbers, durations or Dates) turned into the
 * storage's ScheduleSpec. A pure function of the request and the clock, so it is checked here once,
 * while the tick runs: a bad request throws a TypeError in the behavior, never at commit.
 */
import type { ScheduleSpec } from '../../storage/types.js';
import { parseDuration } from '../duration.js';
import type { ScheduleRequest } from '../types.js';

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
