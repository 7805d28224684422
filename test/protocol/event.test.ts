import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { finalizeEvent, verifyEvent, loadFastCrypto, useFastCrypto, cryptoEngine } from '../../src/protocol/crypto.js';
import { getEventHash, compareEventsNewestFirst, serializeEvent, signedEventBytes } from '../../src/protocol/event.js';
import { matchFilter } from '../../src/protocol/filter.js';
import { hexToBytes } from '../../src/protocol/hex.js';

const sk = hexToBytes('7f7ff03d123792d6ac594bfa67bf6d0c0ab55b6b1fdb6249303fe861f1ccba9a');

describe('event signing and verification', () => {
  it('signs with wasm and verifies with both engines', async () => {
    expect(await loadFastCrypto()).toBe(true);
    expect(cryptoEngine()).toBe('wasm');
    const event = finalizeEvent({ kind: 1, created_at: 1700000000, tags: [['t', 'x']], content: 'hello' }, sk);
    expect(event.pubkey).toBe('17162c921dc4d2518f9a101db33695df1afb56ab82f5ff3e5da6eec3ca5cd917');
    expect(event.id).toBe(getEventHash(event));
    expect(verifyEvent(event)).toBe(true);
    expect(verifyEvent({ ...event, content: 'tampered' })).toBe(false);
    useFastCrypto(false);
    expect(cryptoEngine()).toBe('js');
    expect(verifyEvent(event)).toBe(true);
    expect(verifyEvent({ ...event, sig: event.sig.replace(/^./, event.sig[0] === 'a' ? 'b' : 'a') })).toBe(false);
    const jsSigned = finalizeEvent({ kind: 1, created_at: 1700000000, tags: [], content: 'js' }, sk);
    await loadFastCrypto();
    expect(cryptoEngine()).toBe('wasm');
    expect(verifyEvent(jsSigned)).toBe(true);
    expect(verifyEvent({ ...jsSigned, id: 'zz' })).toBe(false);
  });

  // The native hash against the pure-JS one over UTF-8 (TextEncoder), lone surrogates included.
  it('hashes ids as sha256 of the UTF-8 serialization', () => {
    const pubkey = '17162c921dc4d2518f9a101db33695df1afb56ab82f5ff3e5da6eec3ca5cd917';
    const reference = (e: { pubkey: string; created_at: number; kind: number; tags: string[][]; content: string }): string => bytesToHex(sha256(new TextEncoder().encode(serializeEvent(e))));
    for (const content of ['', 'h\u00e9llo \u{1f600}', 'lone \ud800 surrogate', 'x'.repeat(70_000)]) {
      const event = { pubkey, created_at: 1700000000, kind: 1, tags: [['t', content.slice(0, 8)]], content };
      expect(getEventHash(event)).toBe(reference(event));
      expect(signedEventBytes({ kind: 1, created_at: 1700000000, tags: [], content })).toBe(new TextEncoder().encode(JSON.stringify({ kind: 1, created_at: 1700000000, tags: [], content, pubkey: '0'.repeat(64), id: '0'.repeat(64), sig: '0'.repeat(128) })).length);
    }
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.array(fc.array(fc.string({ unit: 'binary' }), { maxLength: 3 }), { maxLength: 3 }), (content, tags) => {
        const event = { pubkey, created_at: 1, kind: 1, tags, content };
        expect(getEventHash(event)).toBe(reference(event));
      }),
      { numRuns: 200 },
    );
  });

  it('orders newest first with ties by lowest id and matches filters', () => {
    const a = finalizeEvent({ kind: 1, created_at: 10, tags: [['p', 'ab']], content: 'a' }, sk);
    const b = finalizeEvent({ kind: 1, created_at: 11, tags: [], content: 'b' }, sk);
    expect([a, b].sort(compareEventsNewestFirst)[0]).toBe(b);
    expect(matchFilter({ kinds: [1], '#p': ['ab'], since: 10, until: 10 }, a)).toBe(true);
    expect(matchFilter({ '#p': ['ab'] }, b)).toBe(false);
    expect(matchFilter({ authors: [a.pubkey], kinds: [2] }, a)).toBe(false);
  });
});
