/**
 * WebSocket text frames as the server sends them (RFC 6455 §5.2: FIN, opcode 1, no mask), several in
 * one buffer. A REQ's stored events and its EOSE, or a batch of OKs, then leave in one socket write:
 * on loopback a write of 51 frames as 102 chunks (ws writes a header and a payload per frame) costs
 * about twice what one buffer of the same bytes costs.
 */

/** Header length of a frame with `n` payload bytes. */
function headerLength(n: number): number {
  return n < 126 ? 2 : n < 65536 ? 4 : 10;
}

/** Encodes `texts` as consecutive unmasked text frames in one buffer. */
export function encodeTextFrames(texts: readonly string[]): Buffer {
  const lengths = texts.map((t) => Buffer.byteLength(t, 'utf8'));
  let total = 0;
  for (const n of lengths) total += headerLength(n) + n;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  texts.forEach((text, i) => {
    const n = lengths[i]!;
    out[at++] = 0x81;
    if (n < 126) out[at++] = n;
    else if (n < 65536) {
      out[at++] = 126;
      out.writeUInt16BE(n, at);
      at += 2;
    } else {
      out[at++] = 127;
      out.writeBigUInt64BE(BigInt(n), at);
      at += 8;
    }
    at += out.write(text, at, n, 'utf8');
  });
  return out;
}
