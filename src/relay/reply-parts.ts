/**
 * Cutting a long text into the parts that each fit one event. Sizes are exact, not estimated: a
 * part's cost is what it adds to the bytes that are bounded (its JSON string form inside a rumor or
 * a kind 1, its UTF-8 bytes inside NIP-04's ciphertext), and the budget comes from the real sizes
 * of the layers around it (reply.ts). Parts are cut at a line break or a space near the end when
 * there is one, never inside a code point; joined without their labels they give the text back.
 */

/**
 * The largest event JSON the agent publishes: strfry's default `maxEventSize` (64 KiB), the most
 * deployed relay's limit. A NIP-17 wrap of that size carries a rumor of at most 28,672 bytes.
 */
export const MAX_EVENT_BYTES = 65_536;

/** At most this many events per message; past it the last part ends with a truncation note. */
export const MAX_REPLY_PARTS = 16;

/** What a text's size is measured in: JSON string bytes (plaintext events, rumors) or UTF-8 bytes (NIP-04). */
export type TextCost = 'json' | 'utf8';

/** The bytes one code point adds, measured as `cost`. */
export function codePointCost(cp: number, cost: TextCost): number {
  const surrogate = cp >= 0xd800 && cp <= 0xdfff;
  if (cost === 'json') {
    if (cp === 0x22 || cp === 0x5c || cp === 0x08 || cp === 0x09 || cp === 0x0a || cp === 0x0c || cp === 0x0d) return 2;
    if (cp < 0x20 || surrogate) return 6; // \u00XX, and lone surrogates as \udXXX
  } else if (surrogate) return 3; // a lone surrogate becomes U+FFFD
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** The size of `text` measured as `cost`. */
export function textCost(text: string, cost: TextCost): number {
  let n = 0;
  for (const ch of text) n += codePointCost(ch.codePointAt(0) as number, cost);
  return n;
}

/** The note that ends a cut text. */
export function truncationNote(droppedBytes: number): string {
  return `\n[… truncated: ${droppedBytes} more bytes not sent]`;
}

/** The longest prefix of `text` (cut between code points, at a break near the end if any) costing at most `budget`. */
function prefix(text: string, start: number, budget: number, cost: TextCost): number {
  let used = 0;
  let i = start;
  let lastBreak = -1;
  let breakUsed = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i) as number;
    const c = codePointCost(cp, cost);
    if (used + c > budget) break;
    used += c;
    i += cp > 0xffff ? 2 : 1;
    if (cp === 0x0a || cp === 0x20) {
      lastBreak = i;
      breakUsed = used;
    }
  }
  // Prefer a break in the last quarter: a word or line is not cut in two for a small loss.
  if (i < text.length && lastBreak > start && breakUsed >= budget * 0.75) return lastBreak;
  return i;
}

/**
 * Splits `text` into parts costing at most `budget` each (labels `[i/n] ` included when there is
 * more than one part). Past `maxParts` the last part is cut shorter and ends with a truncation note
 * naming the bytes left out. Throws a plain error when the budget cannot hold a label and a note.
 */
export function splitText(text: string, budget: number, cost: TextCost, maxParts = MAX_REPLY_PARTS): string[] {
  if (textCost(text, cost) <= budget) return [text];
  const note = textCost(truncationNote(10 ** 12), cost);
  const label = `[${maxParts}/${maxParts}] `.length;
  if (budget < label + note + 16) throw new Error(`a part budget of ${budget} bytes is too small to split a message into`);
  const room = budget - label;
  const pieces: string[] = [];
  let at = 0;
  while (at < text.length && pieces.length < maxParts) {
    const end = prefix(text, at, room, cost);
    pieces.push(text.slice(at, end));
    at = end;
  }
  if (at < text.length) {
    const lastStart = at - (pieces.at(-1) as string).length;
    const end = prefix(text, lastStart, room - note, cost);
    const dropped = textCost(text.slice(end), 'utf8');
    pieces[pieces.length - 1] = text.slice(lastStart, end) + truncationNote(dropped);
  }
  return pieces.length === 1 ? pieces : pieces.map((p, i) => `[${i + 1}/${pieces.length}] ${p}`);
}

/** `text` cut to at most `maxBytes` UTF-8 bytes (between code points) with a note when it was longer. */
export function capText(text: string, maxBytes: number): string {
  if (textCost(text, 'utf8') <= maxBytes) return text;
  const end = prefix(text, 0, maxBytes - textCost(truncationNote(10 ** 12), 'utf8'), 'utf8');
  return text.slice(0, end) + truncationNote(textCost(text.slice(end), 'utf8'));
}
