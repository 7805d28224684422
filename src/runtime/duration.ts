/**
 * Human durations ("3s", "10 seconds", "5m", "2 hours", "1h 30m", "an hour") to milliseconds.
 * Used by `ctx.schedule({ in })` and the assistant's "remind me in …"; strict, so a typo is an
 * error naming the bad part rather than a reminder at a surprising time.
 */

const UNITS: Record<string, number> = {
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

const PART = /^(\d+(?:\.\d+)?|an?|one)\s*([a-z]+)$/;

/** Parses a duration; throws a lowercase Error naming the part it could not read. */
export function parseDuration(text: string): number {
  const cleaned = text.trim().toLowerCase().replace(/,/g, ' ').replace(/\band\b/g, ' ');
  if (!cleaned) throw new Error('empty duration');
  // Split "1h30m" and "1 h 30 m" alike into number+unit parts.
  const parts = cleaned.match(/(\d+(?:\.\d+)?|\ban?\b|\bone\b)\s*[a-z]+/g);
  const rest = cleaned.replace(/(\d+(?:\.\d+)?|\ban?\b|\bone\b)\s*[a-z]+/g, '').trim();
  if (!parts || rest) throw new Error(`cannot read duration "${text.trim()}" (try 30s, 5 minutes, 2h, 1d)`);
  let total = 0;
  for (const part of parts) {
    const m = PART.exec(part.trim());
    const unit = m?.[2] ? UNITS[m[2]] : undefined;
    if (!m?.[1] || unit === undefined) throw new Error(`unknown duration unit in "${part.trim()}" (use s, m, h, d or w)`);
    const n = /^\d/.test(m[1]) ? Number(m[1]) : 1;
    total += n * unit;
  }
  if (!Number.isFinite(total) || total <= 0) throw new Error(`duration "${text.trim()}" must be more than zero`);
  return Math.round(total);
}

/** A short human form of a duration in ms ("1h 30m", "45s"), for replies. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  let s = Math.round(ms / 1000);
  const out: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (s >= size) {
      out.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  return out.join(' ');
}
