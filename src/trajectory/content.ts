/**
 * TickRecord → the content of its tick event: secrets redacted, DM bodies hashed in public mode,
 * cut to a size every relay accepts, checked against the wire schema before anything is signed.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { z } from 'zod';
import { canonicalJson, toJsonValue, type JsonValue } from './canonical.js';
import { redactValue, type RedactOptions } from './redact.js';
import { TickContentSchema, type TickContent } from './schema.js';
import type { TickRecord, TrajectoryVisibility } from './types.js';

/** Largest canonical content (UTF-8 bytes) before encryption; NIP-44 allows 65535, relays often ~64 KiB per event. */
export const MAX_CONTENT_BYTES = 32_000;

/** How a record becomes content. */
export interface ContentOptions extends RedactOptions {
  visibility: TrajectoryVisibility;
  /** Public mode only: publish DM texts instead of their hashes. Default false. */
  publishBodies?: boolean;
}

/** `sha256:<hex>` of a text: what a DM body becomes in public mode. */
export function hashBody(text: string): string {
  return `sha256:${bytesToHex(sha256(new TextEncoder().encode(text)))}`;
}

/** Steps kept before anything else is looked at; the size limit leaves room for far fewer anyway. */
const MAX_STEPS = 2000;
/** Strings are cut to this many characters before redaction, bounding its cost on huge tool outputs. */
const MAX_STRING_CHARS = 40_000;

const num = (x: number | undefined): number => (typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : 0);
const int = (x: number | undefined): number => Math.round(num(x));
const tokens = (t: { input: number; output: number } | undefined) => t && { input: int(t.input), output: int(t.output) };

/**
 * Builds, redacts, shrinks and validates the content of a tick. Times and counts are normalized
 * (non-finite or negative → 0, integers where the schema wants them) so a clock hiccup never fails
 * a tick; a malformed id or an unknown step type throws a plain error naming the field.
 */
export function tickContent(record: TickRecord, options: ContentOptions): { content: TickContent; redactions: number } {
  const dropped = Math.max(0, record.steps.length - MAX_STEPS);
  let raw = toJsonValue({
    v: 1,
    startedAt: int(record.startedAt),
    endedAt: int(record.endedAt),
    trigger: { ...record.trigger, at: int(record.trigger.at) },
    steps: record.steps.slice(0, MAX_STEPS).map((step) => ({ ...step, at: int(step.at), ms: num(step.ms), tokens: tokens(step.tokens) })),
    tokens: tokens(record.tokens),
    budget: { computeMs: num(record.budget.computeMs), llmCalls: int(record.budget.llmCalls), tokens: int(record.budget.tokens) },
    outcome: record.outcome,
    error: record.error,
    sent: record.sentEventIds,
  }) as { [key: string]: JsonValue };
  if (options.visibility === 'public' && !options.publishBodies) raw = hashDmBodies(raw, record);
  // The ids this tick sent and the trigger's event id and sender were signed or checked: public, not keys to test.
  // (A manual trigger's `from` is whatever the poke said: it is tested like any other string.)
  const checked = record.trigger.type === 'dm' || record.trigger.type === 'mention' || record.trigger.type === 'event';
  const fromTrigger = checked ? [record.trigger.eventId, record.trigger.from].filter((x): x is string => x !== undefined) : [];
  const publicHex = [...record.sentEventIds, ...fromTrigger, ...(options.publicHex ?? [])];
  const { value, count } = redactValue(preclip(raw), { ...options, publicHex });
  const parsed = TickContentSchema.safeParse(shrink(value as { [key: string]: JsonValue }, dropped));
  if (!parsed.success) throw new Error(`tick ${record.seq} cannot be published: ${z.prettifyError(parsed.error)}`);
  return { content: parsed.data, redactions: count };
}

/** Cuts very long strings at a separator before MAX_STRING_CHARS, so no token (or secret) is left half-cut. */
function preclip(node: JsonValue): JsonValue {
  if (typeof node === 'string') {
    if (node.length <= MAX_STRING_CHARS) return node;
    const head = node.slice(0, MAX_STRING_CHARS);
    const cut = Math.max(0, ...[' ', '\n', '\t', '"', "'", ',', ';'].map((c) => head.lastIndexOf(c)));
    return `${head.slice(0, cut)}…[+${node.length - cut} chars]`;
  }
  if (node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) return node.map(preclip);
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, preclip(v)]));
}

/** The canonical JSON of content (what is signed, or encrypted then signed). */
export function serializeContent(content: TickContent): string {
  return canonicalJson(content as unknown as JsonValue);
}

/** Message steps carry DM bodies unless they say they were public notes. */
function isDmStep(step: JsonValue): boolean {
  if (step === null || typeof step !== 'object' || Array.isArray(step) || step.type !== 'message') return false;
  const detail = step.detail;
  const protocol = detail && typeof detail === 'object' && !Array.isArray(detail) ? detail.protocol : undefined;
  return protocol !== 'note';
}

const BODY_FIELDS = ['text', 'body', 'content'];

function hashDmBodies(raw: { [key: string]: JsonValue }, record: TickRecord): { [key: string]: JsonValue } {
  const dmText = record.trigger.type === 'dm' ? record.trigger.text : undefined;
  const bodies = new Map<string, string>();
  const hashed = (text: string): string => {
    const h = hashBody(text);
    bodies.set(text, h);
    return h;
  };
  const trigger = raw.trigger as { [key: string]: JsonValue };
  if (dmText !== undefined) trigger.text = hashed(dmText);
  const steps = (raw.steps as JsonValue[]).map((step) => {
    if (!isDmStep(step)) return step;
    const s = step as { [key: string]: JsonValue };
    const detail = s.detail as { [key: string]: JsonValue } | undefined;
    if (!detail) return step;
    const copy = { ...detail };
    for (const field of BODY_FIELDS) if (typeof copy[field] === 'string') copy[field] = hashed(copy[field]);
    return { ...s, detail: copy };
  });
  // The text may also be quoted elsewhere (an LLM prompt in a think step, a tool argument).
  const quoted = [...bodies].filter(([text]) => text.length >= 6);
  const scrub = (node: JsonValue): JsonValue => {
    if (typeof node === 'string') return quoted.reduce((s, [text, h]) => (s.includes(text) ? s.split(text).join(h) : s), node);
    if (node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) return node.map(scrub);
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, scrub(v)]));
  };
  return { ...raw, trigger, steps: steps.map(scrub), error: raw.error === undefined ? undefined : scrub(raw.error) } as { [key: string]: JsonValue };
}

const byteLength = (value: JsonValue): number => Buffer.byteLength(canonicalJson(value), 'utf8');

/** Cuts long strings, then step details, then trailing steps, until the content fits; says what it cut. */
function shrink(content: { [key: string]: JsonValue }, dropped: number): { [key: string]: JsonValue } {
  if (dropped === 0 && byteLength(content) <= MAX_CONTENT_BYTES) return content;
  const cut = { strings: 0, details: 0, steps: dropped };
  const clip = (limit: number) => (node: JsonValue): JsonValue => {
    if (typeof node === 'string') {
      if (node.length <= limit) return node;
      cut.strings++;
      return `${node.slice(0, limit)}…[+${node.length - limit} chars]`;
    }
    if (node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) return node.map(clip(limit));
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, clip(limit)(v)]));
  };
  let out = { ...content, steps: (content.steps as JsonValue[]).map(clip(2000)) } as { [key: string]: JsonValue };
  out.trigger = clip(2000)(out.trigger as JsonValue);
  if (typeof out.error === 'string') out.error = clip(2000)(out.error);
  let steps = out.steps as Array<{ [key: string]: JsonValue }>;
  if (byteLength({ ...out, truncated: cut }) > MAX_CONTENT_BYTES) {
    steps = steps.map((step) => {
      if (step.detail === undefined) return step;
      cut.details++;
      const { detail: _dropped, ...rest } = step;
      return rest;
    });
    out = { ...out, steps };
  }
  if (byteLength({ ...out, truncated: cut }) > MAX_CONTENT_BYTES) {
    // Keep the longest prefix of steps that fits next to everything else (sized with the worst-case counter).
    const frame = byteLength({ ...out, steps: [], truncated: { ...cut, steps: cut.steps + steps.length } });
    let used = frame;
    let keep = 0;
    for (const step of steps) {
      used += byteLength(step) + 1;
      if (used > MAX_CONTENT_BYTES) break;
      keep++;
    }
    cut.steps += steps.length - keep;
    out = { ...out, steps: steps.slice(0, keep) };
  }
  return { ...out, truncated: cut };
}
