import { describe, expect, it } from 'vitest';
import { finalizeEvent, verifyEvent, loadFastCrypto, useFastCrypto, cryptoEngine } from '../../src/protocol/crypto.js';
import { getEventHash, compareEventsNewestFirst } from '../../src/protocol/event.js';
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

  it('orders newest first with ties by lowest id and matches filters', () => {
    const a = finalizeEvent({ kind: 1, created_at: 10, tags: [['p', 'ab']], content: 'a' }, sk);
    const b = finalizeEvent({ kind: 1, created_at: 11, tags: [], content: 'b' }, sk);
    expect([a, b].sort(compareEventsNewestFirst)[0]).toBe(b);
    expect(matchFilter({ kinds: [1], '#p': ['ab'], since: 10, until: 10 }, a)).toBe(true);
    expect(matchFilter({ '#p': ['ab'] }, b)).toBe(false);
    expect(matchFilter({ authors: [a.pubkey], kinds: [2] }, a)).toBe(false);
  });
});
