/**
 * Cutting a part's JSON into chunks that each fit one NIP-44 payload, and the SHA-256 the manifest
 * lists for each. Cuts fall on UTF-8 character boundaries, so every chunk is valid text on its own
 * and the concatenation of the decrypted chunks is the part again, byte for byte.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '../protocol/hex.js';
import { MAX_PLAINTEXT_BYTES } from '../protocol/nip44.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Hex SHA-256 of the UTF-8 bytes of `text`. */
export function sha256Hex(text: string): string {
  return bytesToHex(sha256(encoder.encode(text)));
}

/** Splits `text` into pieces of at most `maxBytes` UTF-8 bytes (at least one piece, even for ""). */
export function splitUtf8(text: string, maxBytes: number): string[] {
  if (!Number.isInteger(maxBytes) || maxBytes < 4 || maxBytes > MAX_PLAINTEXT_BYTES) {
    throw new RangeError(`chunk size must be an integer from 4 to ${MAX_PLAINTEXT_BYTES} bytes, got ${maxBytes}`);
  }
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return [text];
  const out: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + maxBytes, bytes.length);
    // Never cut inside a character: back up past continuation bytes (10xxxxxx).
    while (end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
    out.push(decoder.decode(bytes.subarray(start, end)));
    start = end;
  }
  return out;
}
