import { describe, expect, it } from 'vitest';
import { nextCronTime, parseCron } from '../../src/storage/cron.js';
import { firstRunAt, nextRunAt, parseScheduleSpec, utcDay } from '../../src/storage/time.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

describe('cron parser', () => {
  it('parses numbers, *, lists, ranges and steps', () => {
    const c = parseCron('*/15 9-17/4 1,15 * 1-5');
    expect([...c.minutes]).toEqual([0, 15, 30, 45]);
    expect([...c.hours]).toEqual([9, 13, 17]);
    expect([...c.daysOfMonth]).toEqual([1, 15]);
    expect(c.months.size).toBe(12);
    expect([...c.daysOfWeek]).toEqual([1, 2, 3, 4, 5]);
    expect([...parseCron('5/20 * * * 7').minutes]).toEqual([5, 25, 45]);
    expect([...parseCron('0 0 * * 7').daysOfWeek]).toEqual([0]);
  });

  it('names the field and the problem on bad input', () => {
    expect(() => parseCron('* * * *')).toThrow(/expected 5 fields/);
    expect(() => parseCron('60 * * * *')).toThrow(/minute 60 is outside 0-59/);
    expect(() => parseCron('* 5-2 * * *')).toThrow(/hour range 5-2 runs backwards/);
    expect(() => parseCron('* * * jan *')).toThrow(/month has "jan"/);
    expect(() => parseCron('*/0 * * * *')).toThrow(/outside 1-1000/);
    expect(() => parseCron('1,,2 * * * *')).toThrow(/malformed/);
    expect(() => nextCronTime('0 0 30 2 *', at('2024-01-01T00:00:00Z'))).toThrow(/never fires/);
  });

  it('finds the next occurrence strictly after a time, in UTC', () => {
    expect(iso(nextCronTime('*/15 * * * *', at('2024-03-10T10:07:30Z')))).toBe('2024-03-10T10:15:00.000Z');
    expect(iso(nextCronTime('*/15 * * * *', at('2024-03-10T10:15:00Z')))).toBe('2024-03-10T10:30:00.000Z');
    expect(iso(nextCronTime('0 9 * * 1-5', at('2024-03-08T09:00:00Z')))).toBe('2024-03-11T09:00:00.000Z'); // Fri → Mon
    expect(iso(nextCronTime('30 23 31 12 *', at('2024-06-01T00:00:00Z')))).toBe('2024-12-31T23:30:00.000Z');
    expect(iso(nextCronTime('0 0 29 2 *', at('2025-01-01T00:00:00Z')))).toBe('2028-02-29T00:00:00.000Z'); // leap day
    // Both day fields restricted: either matches (the 13th, or any Friday).
    expect(iso(nextCronTime('0 12 13 * 5', at('2024-09-01T00:00:00Z')))).toBe('2024-09-06T12:00:00.000Z');
    expect(iso(nextCronTime('0 12 13 * 5', at('2024-09-10T00:00:00Z')))).toBe('2024-09-13T12:00:00.000Z');
  });
});

describe('schedule times', () => {
  const now = at('2024-03-10T10:00:00Z');

  it('computes first runs for each spec type', () => {
    expect(firstRunAt({ type: 'at', at: now - 5 }, now)).toBe(now - 5);
    expect(firstRunAt({ type: 'delayed', delayMs: 500 }, now)).toBe(now + 500);
    expect(firstRunAt({ type: 'interval', everyMs: 60_000 }, now)).toBe(now + 60_000);
    expect(iso(firstRunAt({ type: 'cron', expr: '0 12 * * *' }, now))).toBe('2024-03-10T12:00:00.000Z');
  });

  it('moves recurring schedules strictly past now, once, keeping an interval phase', () => {
    const every = 60_000;
    // Due at now, fired on time.
    expect(nextRunAt({ type: 'interval', everyMs: every }, now, now)).toBe(now + every);
    // Fired 10.5 periods late (daemon was down): next is the first slot after now, not 10 catch-ups.
    expect(nextRunAt({ type: 'interval', everyMs: every }, now, now + 10.5 * every)).toBe(now + 11 * every);
    expect(nextRunAt({ type: 'interval', everyMs: every }, now, now + 11 * every)).toBe(now + 12 * every);
    expect(iso(nextRunAt({ type: 'cron', expr: '0 * * * *' }, now, now + 5 * 3_600_000 + 1)!)).toBe('2024-03-10T16:00:00.000Z');
    expect(nextRunAt({ type: 'at', at: now }, now, now)).toBeUndefined();
    expect(nextRunAt({ type: 'delayed', delayMs: 1 }, now, now)).toBeUndefined();
  });

  it('validates specs from untrusted callers', () => {
    expect(() => parseScheduleSpec({ type: 'interval', everyMs: 0 })).toThrow(/invalid schedule/);
    expect(() => parseScheduleSpec({ type: 'cron', expr: '* *' })).toThrow(/expected 5 fields/);
    expect(() => parseScheduleSpec({ type: 'weekly' })).toThrow(/invalid schedule/);
    expect(() => parseScheduleSpec({ type: 'at', at: -1 })).toThrow(/invalid schedule/);
    expect(parseScheduleSpec({ type: 'delayed', delayMs: 10 })).toEqual({ type: 'delayed', delayMs: 10 });
    expect(utcDay(at('2024-03-10T23:59:59.999Z'))).toBe('2024-03-10');
  });
});
