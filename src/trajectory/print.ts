/**
 * Printing trajectories for `agent trajectory`: ticks human-readable (trigger, timed steps, outcome)
 * or as JSON lines, and a verify report. Text from relays is untrusted: control characters are
 * escaped so a tick cannot drive the terminal.
 */
import { npubEncode } from '../protocol/nip19.js';
import { tickContent } from './content.js';
import type { DecodedTick } from './decode.js';
import type { TickContent } from './schema.js';
import type { TickRecord, VerifyReport } from './types.js';

/** A tick to print: from the local store (a record) or read back from relays (a decoded event). */
export interface TickView {
  seq: number;
  /** The tick event's id, when it is known. */
  id?: string;
  /** Absent when the tick is private and the owner key was not available. */
  content?: TickContent;
}

/** A local record as a view, redacted like its published content (DM texts are shown: this is the owner's machine). */
export function viewFromRecord(record: TickRecord, id?: string): TickView {
  return { seq: record.seq, id, content: tickContent(record, { visibility: 'private', protectedPubkeys: [record.agentPubkey] }).content };
}

/** A decoded tick event as a view. */
export function viewFromDecoded(tick: DecodedTick): TickView {
  return { seq: tick.seq, id: tick.id, content: tick.content };
}

/** Escapes control characters (ANSI escapes included) and shortens to `max` characters. */
export function clean(text: string, max = 80): string {
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\n' ? '⏎' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
}

const shortKey = (hex: string): string => {
  try {
    const npub = npubEncode(hex);
    return `${npub.slice(0, 12)}…${npub.slice(-4)}`;
  } catch {
    return clean(hex, 16);
  }
};
const time = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
const pad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

function summarize(detail: Record<string, unknown> | undefined): string {
  if (!detail) return '';
  return Object.entries(detail)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? (/^[0-9a-f]{64}$/.test(v) ? shortKey(v) : JSON.stringify(v)) : JSON.stringify(v)}`)
    .join(' ');
}

/** One tick, human-readable: a header line, one line per step, a totals line. */
export function formatTick(view: TickView): string {
  const c = view.content;
  const id = view.id ? `  ${view.id.slice(0, 12)}` : '';
  if (!c) return `#${view.seq}${id}  (private: the owner key is needed to read it)`;
  const t = c.trigger;
  const from = t.from ? ` from ${shortKey(t.from)}` : '';
  const text = t.text !== undefined ? `  ${JSON.stringify(clean(t.text, 60))}` : '';
  const lines = [`#${view.seq}  ${time(c.startedAt)}  ${t.type}${from}${text}  ${c.outcome}  ${c.endedAt - c.startedAt}ms${id}`];
  for (const step of c.steps) {
    const tokens = step.tokens ? `  tokens ${step.tokens.input}/${step.tokens.output}` : '';
    const rest = clean([step.name ? (/^[0-9a-f]{64}$/.test(step.name) ? shortKey(step.name) : step.name) : '', summarize(step.detail)].filter(Boolean).join(' '), 100);
    lines.push(`  ${pad(`+${step.at - c.startedAt}ms`, 8)} ${pad(`${step.ms}ms`, 7)}  ${step.type.padEnd(8)} ${rest}${tokens}`.trimEnd());
  }
  if (c.error) lines.push(`  error: ${clean(c.error, 200)}`);
  if (c.truncated) lines.push(`  (cut to fit: ${c.truncated.strings} strings, ${c.truncated.details} details, ${c.truncated.steps} steps)`);
  const sent = c.sent.length === 1 ? '1 event' : `${c.sent.length} events`;
  lines.push(`  tokens ${c.tokens.input} in / ${c.tokens.output} out · llm calls ${c.budget.llmCalls} · compute ${c.budget.computeMs}ms · sent ${sent}`);
  return lines.join('\n');
}

/** One tick as a JSON line: `{seq, id, …content}` (or `{seq, id, locked: true}`). */
export function tickJsonLine(view: TickView): string {
  return JSON.stringify(view.content ? { seq: view.seq, id: view.id, ...view.content } : { seq: view.seq, id: view.id, locked: true });
}

/** A verify report: `verified: N ticks` and details, or every break with where and how. */
export function formatVerifyReport(report: VerifyReport): string {
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (report.ok) {
    const notes = [plural(report.sessions, 'session')];
    if (report.headId) notes.push(`head ${report.headId}`);
    if (report.unsealed > 0) notes.push(`${report.unsealed} not yet sealed by a session`);
    if (report.locked > 0) notes.push(`${report.locked} private, content not checked without the owner key`);
    return `verified: ${plural(report.ticks, 'tick')} (${notes.join('; ')})`;
  }
  const lines = [`trajectory broken: ${plural(report.breaks.length, 'problem')} in ${plural(report.ticks, 'tick')}`];
  for (const b of report.breaks) lines.push(`  ${b.seq === undefined ? '' : `seq ${b.seq} `}[${b.kind}] ${clean(b.message, 600)}`);
  return lines.join('\n');
}
