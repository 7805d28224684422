/**
 * Reading and writing big text files a piece at a time. A daemon with thousands of agents keeps a
 * state file of megabytes (the snapshot bookkeeping): `readFileSync` / `writeFileSync` of it each
 * allocate one native buffer of the whole file, and glibc's malloc, on freeing a block that large,
 * raises its mmap threshold to that size (and its trim threshold to twice it). From then on every
 * native allocation below it comes from the main heap, whose freed pages are not given back: with
 * 3,000 agents that kept ~14 MiB of the daemon's RSS. Pieces of PIECE_BYTES stay under glibc's default
 * threshold (128 KiB), so nothing moves it.
 */
import { closeSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** Bytes per read or write: below glibc's default mmap threshold (128 KiB). */
export const PIECE_BYTES = 64 * 1024;

/** The UTF-8 text of `file`, read PIECE_BYTES at a time (throws like readFileSync: ENOENT, …). */
export function readTextFile(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafeSlow(PIECE_BYTES);
    const decoder = new StringDecoder('utf8');
    const parts: string[] = [];
    for (;;) {
      const n = readSync(fd, buffer, 0, PIECE_BYTES, null);
      if (n === 0) break;
      parts.push(decoder.write(n === PIECE_BYTES ? buffer : buffer.subarray(0, n)));
    }
    parts.push(decoder.end());
    return parts.join('');
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `pieces` (strings, each best under PIECE_BYTES) to `${file}.tmp` with `mode`, then renames it
 * over `file`: readers see the old file or the new one, never a part.
 */
export function writeTextFileAtomic(file: string, pieces: Iterable<string>, mode = 0o600): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    for (const piece of pieces) writeSync(fd, piece, null, 'utf8');
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
