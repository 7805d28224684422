import { describe, expect, it } from 'vitest';
import { loadFastCrypto, verifyEvent } from '../../src/protocol/crypto.js';
import { deriveFromSeed, mnemonicToSeed } from '../../src/protocol/nip06.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { KeyMismatchError, KeyRing } from '../../src/signer/key-ring.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { TEST_MNEMONIC } from '../helpers/daemon.js';

const seed = mnemonicToSeed(TEST_MNEMONIC);
const pubkeyOf = (index: number): string => deriveFromSeed(seed, index + 1).publicKey;

/** The owner (key 0) sends a DM to each of `count` agents in turn, `rounds` times; each is unwrapped by its agent's lazy signer. */
function dmInTurns(ring: KeyRing, count: number, rounds: number, afterEach: () => void = () => {}): void {
  const owner = new SecretKeySigner(deriveFromSeed(seed, 0).secretKey);
  const agents = Array.from({ length: count }, (_, i) => ring.lazy(i, pubkeyOf(i)));
  for (let round = 0; round < rounds; round++) {
    for (const [i, agent] of agents.entries()) {
      const wrap = buildDirectMessage(owner, agent.getPublicKey(), `to ${i}, round ${round}`)[0]!.event;
      const opened = unwrapGift(wrap, agent);
      expect(opened.ok && opened.rumor.content).toBe(`to ${i}, round ${round}`);
      afterEach();
    }
  }
}

describe('KeyRing', () => {
  it('hands out signers from stored public keys and derives a secret key only when one is used', async () => {
    await loadFastCrypto();
    const ring = new KeyRing({ seed, cacheSize: 2 });
    const signers = [0, 1, 2, 3].map((i) => ring.lazy(i, pubkeyOf(i)));
    expect(signers.map((s) => s.getPublicKey())).toEqual([0, 1, 2, 3].map(pubkeyOf));
    expect(ring.derivations).toBe(0);
    // Nothing secret in what a log line or JSON would show.
    expect(JSON.stringify(signers[0])).toBe(JSON.stringify({ publicKey: pubkeyOf(0) }));

    const event = signers[1]!.signEvent({ kind: 1, created_at: 1_700_000_000, tags: [], content: 'hello' });
    expect(event.pubkey).toBe(pubkeyOf(1));
    expect(verifyEvent(event)).toBe(true);
    expect(ring.derivations).toBe(1);
    signers[1]!.signEvent({ kind: 1, created_at: 1_700_000_001, tags: [], content: 'again' });
    expect(ring.derivations).toBe(1);
  });

  it('unwraps gift wraps for every agent with a bounded cache, deriving evicted keys again', async () => {
    await loadFastCrypto();
    const ring = new KeyRing({ seed, cacheSize: 3 });
    dmInTurns(ring, 8, 2, () => expect(ring.cached).toBeLessThanOrEqual(3));
    // Eight keys used twice through a cache of three: each was derived again on its second use.
    expect(ring.derivations).toBe(16);
  });

  it('grows up to what is reserved when agents taking turns do not fit, so each is derived about once', async () => {
    await loadFastCrypto();
    const ring = new KeyRing({ seed, cacheSize: 4 });
    ring.reserve(6);
    dmInTurns(ring, 6, 4);
    // Six first derivations, then agents 0 and 1 once more (each miss soon after an eviction grows the cache by one).
    expect(ring.derivations).toBe(8);
    expect(ring.cached).toBe(6);
  });

  it('does not grow on a sweep of many agents used once each, nor past what is reserved', () => {
    const ring = new KeyRing({ seed, cacheSize: 4 });
    ring.reserve(5);
    for (let round = 0; round < 2; round++) for (let i = 0; i < 20; i++) ring.signer(i, pubkeyOf(i));
    expect(ring.cached).toBe(4);
    // Six agents in turn through four places: it grows, but only to the five reserved.
    for (let round = 0; round < 3; round++) for (const i of [30, 31, 32, 33, 34, 35]) ring.signer(i, pubkeyOf(i));
    expect(ring.cached).toBe(5);
  });

  it('does not grow while a sweep is marked, even when two sweeps side by side use each agent twice; grows again after', () => {
    const ring = new KeyRing({ seed, cacheSize: 4 });
    ring.reserve(12);
    const claims = ring.sweep();
    const check = ring.sweep();
    // Two sweeps interleaved: each agent is used by one, then by the other three agents later (within the last evictions).
    for (let i = 0; i < 12; i++) {
      ring.signer(i, pubkeyOf(i));
      if (i >= 3) ring.signer(i - 3, pubkeyOf(i - 3));
    }
    claims();
    claims(); // idempotent: the other sweep still holds the cache
    for (let i = 0; i < 6; i++) ring.signer(i, pubkeyOf(i));
    expect(ring.cached).toBe(4);
    check();
    // Agents taking turns once no sweep runs: it grows as before.
    for (let round = 0; round < 3; round++) for (let i = 0; i < 6; i++) ring.signer(i, pubkeyOf(i));
    expect(ring.cached).toBe(6);
  });

  it('refuses a row whose public key is not the derived one, with a stable code (KEYS_INVALID) and no key material', () => {
    const ring = new KeyRing({ seed });
    const wrong = ring.lazy(5, pubkeyOf(6));
    let caught: unknown;
    try {
      wrong.signEvent({ kind: 1, created_at: 1_700_000_000, tags: [], content: 'x' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KeyMismatchError);
    expect((caught as KeyMismatchError).code).toBe('KEYS_INVALID');
    expect((caught as Error).message).not.toMatch(/[0-9a-f]{64}/);
    expect(ring.cached).toBe(0);
  });
});
