import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signedEventBytes } from '../../src/protocol/event.js';
import * as nip04 from '../../src/protocol/nip04.js';
import * as nip44 from '../../src/protocol/nip44.js';
import { createWrap, createSeal, createRumor, giftWrapBytes, maxRumorBytes } from '../../src/protocol/nip59.js';
import { MAX_REPLY_PARTS, capText, splitText, textCost } from '../../src/relay/reply-parts.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { hexToBytes } from '../../src/protocol/hex.js';

const utf8 = (s: string): number => new TextEncoder().encode(s).length;
const unlabel = (part: string): string => part.replace(/^\[\d+\/\d+\] /, '');
const alice = new SecretKeySigner(hexToBytes('a1'.repeat(32)));
const bob = new SecretKeySigner(hexToBytes('b2'.repeat(32)));
const NOW = 1_700_000_000;
// Every kind of code point the costs treat differently: escapes, control characters, 1- to 4-byte UTF-8, lone surrogates.
const text = fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', '\n', '\t', '\u0001', '\u007f', ' ', '\u2028', '\ud800'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 400 });

describe('exact sizes of the layers', () => {
  it('NIP-44 payloadLength is the length encrypt produces', () => {
    const key = nip44.getConversationKey(hexToBytes('a1'.repeat(32)), bob.getPublicKey());
    for (const n of [1, 31, 32, 33, 255, 256, 257, 4096, 40960, 40961, 65535]) expect(nip44.encrypt('x'.repeat(n), key).length).toBe(nip44.payloadLength(n));
    expect(() => nip44.payloadLength(65536)).toThrow(/65535/);
  });

  it('NIP-04 payloadLength is what encrypt produces, and maxTextBytes is its inverse', () => {
    for (const n of [0, 1, 15, 16, 17, 1000, 48735]) expect(alice.nip04.encrypt(bob.getPublicKey(), 'y'.repeat(n)).length).toBe(nip04.payloadLength(n));
    fc.assert(
      fc.property(fc.integer({ min: 28, max: 200_000 }), (chars) => {
        const n = nip04.maxTextBytes(chars);
        if (n >= 0) expect(nip04.payloadLength(n)).toBeLessThanOrEqual(chars);
        expect(nip04.payloadLength(n + 1)).toBeGreaterThan(chars);
      }),
      { numRuns: 2000 },
    );
  });

  it('giftWrapBytes is the real seal and wrap JSON length; the limits are 40,960 (NIP-44) and 28,672 (64 KiB wraps)', () => {
    for (const pad of [0, 500, 27_000, 40_000]) {
      const rumor = createRumor({ kind: 14, created_at: NOW, tags: [['p', bob.getPublicKey()]], content: 'z'.repeat(pad) }, alice.getPublicKey());
      const seal = createSeal(rumor, alice, bob.getPublicKey(), NOW - 5);
      const wrap = createWrap(seal, bob.getPublicKey(), hexToBytes('c3'.repeat(32)), NOW - 7);
      expect(giftWrapBytes(utf8(JSON.stringify(rumor)), NOW)).toEqual({ seal: utf8(JSON.stringify(seal)), wrap: utf8(JSON.stringify(wrap)) });
    }
    expect(maxRumorBytes(NOW)).toBe(40_960);
    expect(giftWrapBytes(40_960, NOW).seal).toBeLessThanOrEqual(65_535);
    expect(() => giftWrapBytes(40_961, NOW)).toThrow(/65535/);
    expect(maxRumorBytes(NOW, 65_536)).toBe(28_672);
    expect(giftWrapBytes(28_672, NOW).wrap).toBeLessThanOrEqual(65_536);
    expect(giftWrapBytes(28_673, NOW).wrap).toBeGreaterThan(65_536);
  });

  it('signedEventBytes is the signed JSON length', () => {
    const template = { kind: 1, created_at: NOW, tags: [['e', 'f'.repeat(64), 'wss://r', 'root']], content: 'héllo "\n"' };
    expect(signedEventBytes(template)).toBe(utf8(JSON.stringify(alice.signEvent(template))));
  });
});

describe('splitText', () => {
  it('costs: json is the JSON string form, utf8 what TextEncoder makes', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(textCost(t, 'json')).toBe(utf8(JSON.stringify(t)) - 2);
        expect(textCost(t, 'utf8')).toBe(utf8(t));
      }),
      { numRuns: 3000 },
    );
  });

  it('every part fits its budget, code points stay whole, and the parts give the text back', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 80, max: 300 }), fc.constantFrom('json' as const, 'utf8' as const), (t, budget, cost) => {
        const parts = splitText(t, budget, cost, 1000);
        for (const part of parts) expect(textCost(part, cost)).toBeLessThanOrEqual(budget);
        const body = parts.length === 1 ? parts : parts.map(unlabel);
        expect(body.join('')).toBe(t);
        if (parts.length > 1) expect(parts.every((p, i) => p.startsWith(`[${i + 1}/${parts.length}] `))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('cuts at a space near the end when there is one', () => {
    const words = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    const parts = splitText(words, 120, 'utf8').map(unlabel);
    expect(parts.length).toBeGreaterThan(2);
    for (const part of parts.slice(0, -1)) expect(part.endsWith(' ')).toBe(true);
  });

  it(`past ${MAX_REPLY_PARTS} parts the last one ends with a note naming what was left out`, () => {
    const parts = splitText('q'.repeat(10_000), 200, 'utf8');
    expect(parts).toHaveLength(MAX_REPLY_PARTS);
    expect(parts.every((p) => textCost(p, 'utf8') <= 200)).toBe(true);
    const sent = parts.map(unlabel).join('').replace(/\n\[… truncated: \d+ more bytes not sent\]$/, '');
    const dropped = Number(/(\d+) more bytes/.exec(parts.at(-1)!)![1]);
    expect(sent.length + dropped).toBe(10_000);
  });

  it('capText cuts at a byte limit with a note, never inside a code point', () => {
    expect(capText('short', 100)).toBe('short');
    const capped = capText('€'.repeat(100), 120);
    expect(utf8(capped)).toBeLessThanOrEqual(120);
    expect(capped).toMatch(/^€+\n\[… truncated: \d+ more bytes not sent\]$/);
  });
});
