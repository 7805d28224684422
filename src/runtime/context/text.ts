/**
 * How long a text a tick may send. Kept apart from the context builder because the limits are
 * part of the runtime's contract (README: a reply past `MAX_TEXT_BYTES` is cut with a note),
 * while the builder only applies them.
 */
import { capText } from '../../relay/reply-parts.js';

/**
 * The longest text one reply, DM or note carries (UTF-8 bytes): longer text is cut there with a
 * note saying how much was left out. Below it a long text is sent as several events (reply-parts.ts).
 */
export const MAX_TEXT_BYTES = 100_000;

/** The longest delegation text: a delegation DM is known by its rumor id, so it must fit one gift wrap. */
export const MAX_DELEGATE_TEXT_BYTES = 24_000;

/** The text to send: a non-empty string (TypeError otherwise), cut at `maxBytes` with a note. */
export function checkText(what: string, text: unknown, maxBytes = MAX_TEXT_BYTES): string {
  if (typeof text !== 'string' || text.trim() === '') throw new TypeError(`${what}: text must be a non-empty string`);
  return capText(text, maxBytes);
}
