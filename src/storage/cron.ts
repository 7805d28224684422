/**
 * A small cron parser: five fields (minute hour day-of-month month day-of-week), evaluated in UTC.
 * Each field takes numbers, `*`, lists (`1,15`), ranges (`1-5`) and steps (`*\/10`, `0-30/5`, `5/15`).
 * Day-of-week 0 and 7 are Sunday. As in Vixie cron, when both day fields are restricted a day
 * matching EITHER fires. No names, no seconds, no time zones: agents store UTC schedules.
 */

/** A parsed expression: which values of each field fire. */
export interface CronExpression {
  readonly source: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  readonly domRestricted: boolean;
  readonly dowRestricted: boolean;
}

interface Field {
  name: string;
  min: number;
  max: number;
}

const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day-of-week', min: 0, max: 7 },
];

const MINUTE = 60_000;
/** Enough steps to cross several years of skipped months and days; an expression that never fires stops here. */
const MAX_STEPS = 50_000;

function parseNumber(text: string, field: Field, expr: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`cron "${expr}": ${field.name} has "${text}", expected a number`);
  const n = Number(text);
  if (n < field.min || n > field.max) throw new Error(`cron "${expr}": ${field.name} ${n} is outside ${field.min}-${field.max}`);
  return n;
}

function parseField(text: string, field: Field, expr: string): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const [range = '', stepText, extra] = item.split('/');
    if (extra !== undefined || range === '') throw new Error(`cron "${expr}": ${field.name} item "${item}" is malformed`);
    const step = stepText === undefined ? 1 : parseNumber(stepText, { ...field, min: 1, max: 1000 }, expr);
    let lo: number;
    let hi: number;
    if (range === '*') [lo, hi] = [field.min, field.max];
    else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      [lo, hi] = [parseNumber(a, field, expr), parseNumber(b, field, expr)];
      if (lo > hi) throw new Error(`cron "${expr}": ${field.name} range ${range} runs backwards`);
    } else {
      lo = parseNumber(range, field, expr);
      hi = stepText === undefined ? lo : field.max;
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return values;
}

/** Parses a 5-field expression; throws a plain Error naming the field and the problem. */
export function parseCron(expr: string): CronExpression {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`cron "${expr}": expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`);
  const sets = parts.map((part, i) => parseField(part, FIELDS[i] as Field, expr));
  const dow = sets[4] as Set<number>;
  if (dow.delete(7)) dow.add(0);
  return {
    source: expr,
    minutes: sets[0] as Set<number>,
    hours: sets[1] as Set<number>,
    daysOfMonth: sets[2] as Set<number>,
    months: sets[3] as Set<number>,
    daysOfWeek: dow,
    domRestricted: !(parts[2] as string).startsWith('*'),
    dowRestricted: !(parts[4] as string).startsWith('*'),
  };
}

function dayMatches(cron: CronExpression, d: Date): boolean {
  const dom = cron.daysOfMonth.has(d.getUTCDate());
  const dow = cron.daysOfWeek.has(d.getUTCDay());
  if (cron.domRestricted && cron.dowRestricted) return dom || dow;
  return dom && dow;
}

/** The first time (ms, on a whole UTC minute) strictly after `after` at which the expression fires. */
export function nextCronTime(cron: CronExpression | string, after: number): number {
  const c = typeof cron === 'string' ? parseCron(cron) : cron;
  let t = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  for (let i = 0; i < MAX_STEPS; i++) {
    const d = new Date(t);
    const [y, mo, day, h] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()];
    if (!c.months.has(mo + 1)) t = Date.UTC(y, mo + 1, 1);
    else if (!dayMatches(c, d)) t = Date.UTC(y, mo, day + 1);
    else if (!c.hours.has(h)) t = Date.UTC(y, mo, day, h + 1);
    else if (!c.minutes.has(d.getUTCMinutes())) t += MINUTE;
    else return t;
  }
  throw new Error(`cron "${c.source}": never fires (no matching date within years)`);
}
