/** relay-dev's own frame encoder (batched sends): what it writes is what ws's own receiver reads back. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { encodeTextFrames } from '../../relay-dev/frames.js';

/** ws's frame parser (exported by the package, absent from its type definitions). */
interface FrameReceiver {
  on(event: 'message', fn: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'error', fn: (error: Error) => void): void;
  write(chunk: Buffer): void;
}
const { Receiver } = createRequire(import.meta.url)('ws') as { Receiver: new (options: { isServer: boolean }) => FrameReceiver };

/** Decodes server frames with ws's client-side Receiver (which refuses masked frames from a server). */
function decode(buffer: Buffer): string[] {
  const out: string[] = [];
  const receiver = new Receiver({ isServer: false });
  receiver.on('message', (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(false);
    out.push(data.toString('utf8'));
  });
  receiver.on('error', (error: Error) => {
    throw error;
  });
  receiver.write(buffer);
  return out;
}

describe('encodeTextFrames', () => {
  it('round-trips the 7-bit, 16-bit and 64-bit length forms and multi-byte text', () => {
    const texts = ['', 'a'.repeat(125), 'b'.repeat(126), 'c'.repeat(65_535), 'd'.repeat(65_536), 'é'.repeat(70), '["EOSE","s"]'];
    expect(decode(encodeTextFrames(texts))).toEqual(texts);
  });

  it('round-trips all-ASCII batches (one-pass form) at the 7-bit, 16-bit and 64-bit length edges', () => {
    const texts = ['', 'a'.repeat(125), 'b'.repeat(126), 'c'.repeat(65_535), '["EOSE","s"]'];
    expect(decode(encodeTextFrames(texts))).toEqual(texts);
    const long = [...texts, 'd'.repeat(65_536)]; // a 64-bit length: the per-frame form
    expect(decode(encodeTextFrames(long))).toEqual(long);
  });

  it('writes the same bytes whichever form a batch takes, and keeps UTF-8 text that follows ASCII text', () => {
    const ascii = ['["EVENT","s",{"content":"plain"}]', 'x'.repeat(300), '["EOSE","s"]'];
    const oneNonAscii = [...ascii, 'caf\u00e9 \u{1f600} \ud800'];
    const encoded = encodeTextFrames(oneNonAscii);
    expect(decode(encoded)).toEqual(['["EVENT","s",{"content":"plain"}]', 'x'.repeat(300), '["EOSE","s"]', 'caf\u00e9 \u{1f600} \ufffd']);
    // The ASCII prefix of the mixed batch is byte for byte the ASCII batch's encoding.
    expect(encoded.subarray(0, encodeTextFrames(ascii).length).equals(encodeTextFrames(ascii))).toBe(true);
  });

  it('round-trips any batch of strings', () => {
    fc.assert(fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 300 }), { maxLength: 20 }), (texts) => {
      expect(decode(encodeTextFrames(texts))).toEqual(texts);
    }));
  });
});
