/**
 * Text helpers for the terminal UI. Message texts come from the network: escape sequences and
 * control characters are removed so a DM cannot move the cursor or recolor the screen.
 */

// CSI / OSC / other ESC sequences, then any C0/C1 control character except newline.
const ESCAPES = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[@-Z\\-_])/g;
const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

/** Untrusted text made safe to print: escapes dropped, tabs as spaces, other controls removed. */
export function safeText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/\t/g, '  ').replace(ESCAPES, '').replace(CONTROLS, '');
}

/** One line of untrusted text, shortened to `max` characters with an ellipsis. */
export function oneLine(text: string, max: number): string {
  const flat = safeText(text).replace(/\n+/g, ' ⏎ ');
  return flat.length > max ? `${flat.slice(0, Math.max(0, max - 1))}…` : flat;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** Local wall-clock time `HH:MM` of a ms timestamp. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** Local wall-clock time `HH:MM:SS` of a ms timestamp. */
export function clockSeconds(ms: number): string {
  const d = new Date(ms);
  return `${clockTime(ms)}:${two(d.getSeconds())}`;
}

/** A short form of an npub for narrow places: `npub1abcd…wxyz`. */
export function shortNpub(npub: string): string {
  return npub.length > 18 ? `${npub.slice(0, 10)}…${npub.slice(-4)}` : npub;
}

/** A duration for people: `850ms`, `2.4s`, `3m 05s`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${two(s % 60)}s`;
}
