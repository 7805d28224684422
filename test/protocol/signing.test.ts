import { inspect } from 'node:util';
import { schnorr } from '@noble/curves/secp256k1.js';
import { initNostrWasm } from 'nostr-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finalizeEvent, getPublicKey, loadFastCrypto, signEventAs, signingEngine, useFastCrypto, verifyEvent } from '../../src/protocol/crypto.js';
import { getEventHash, type EventTemplate, type NostrEvent } from '../../src/protocol/event.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { loadVectors, type Nip06Vectors } from '../helpers/vectors.js';

const { vectors } = loadVectors<Nip06Vectors>('nip06.vectors.json');
const template: EventTemplate = { kind: 1, created_at: 1700000000, tags: [['t', 'sign']], content: 'héllo ✓ \u{1F600}' };
const aux = hexToBytes('0000000000000000000000000000000000000000000000000000000000000001');
const nostrWasm = await initNostrWasm();

/** True when noble and nostr-wasm both accept the event (each checks the id as well). */
function verifiesEverywhere(event: NostrEvent): boolean {
  const noble = getEventHash(event) === event.id && schnorr.verify(hexToBytes(event.sig), hexToBytes(event.id), hexToBytes(event.pubkey));
  let wasm = true;
  try {
    nostrWasm.verifyEvent(event);
  } catch {
    wasm = false;
  }
  return noble && wasm;
}

describe('signing with a known public key', () => {
  beforeAll(async () => {
    expect(await loadFastCrypto()).toBe(true);
  });
  afterAll(async () => {
    await loadFastCrypto();
  });

  it('derives the official NIP-06 public keys and signs events every engine verifies', () => {
    expect(signingEngine()).toBe('tiny-secp256k1');
    for (const v of vectors) {
      const sk = hexToBytes(v.privateKey);
      expect(getPublicKey(sk)).toBe(v.publicKey);
      const kept = signEventAs(template, sk, v.publicKey);
      const oneOff = finalizeEvent(template, sk);
      for (const event of [kept, oneOff]) {
        expect(event.pubkey).toBe(v.publicKey);
        expect(event.id).toBe(getEventHash(event));
        expect(verifiesEverywhere(event)).toBe(true);
        expect(verifyEvent(event)).toBe(true);
        expect(verifyEvent({ ...event, content: 'tampered' })).toBe(false);
      }
    }
  });

  it('is deterministic for a given aux randomness and identical to the BIP-340 signature of noble', () => {
    const sk = hexToBytes(vectors[0]!.privateKey);
    const a = signEventAs(template, sk, vectors[0]!.publicKey, aux);
    const b = finalizeEvent(template, sk, aux);
    expect(b).toEqual(a);
    expect(a.sig).toBe(Buffer.from(schnorr.sign(hexToBytes(a.id), sk, aux)).toString('hex'));
    // Fresh aux randomness by default: two signatures of one event differ, both valid.
    const c = signEventAs(template, sk, vectors[0]!.publicKey);
    const d = signEventAs(template, sk, vectors[0]!.publicKey);
    expect(c.id).toBe(a.id);
    expect(c.sig).not.toBe(d.sig);
    expect(verifiesEverywhere(c) && verifiesEverywhere(d)).toBe(true);
  });

  it('falls back to the pure-JS engine with the same signatures when the wasm engines are not loaded', () => {
    const sk = hexToBytes(vectors[1]!.privateKey);
    const fast = signEventAs(template, sk, vectors[1]!.publicKey, aux);
    useFastCrypto(false);
    expect(signingEngine()).toBe('noble');
    expect(getPublicKey(sk)).toBe(vectors[1]!.publicKey);
    const slow = signEventAs(template, sk, vectors[1]!.publicKey, aux);
    expect(slow).toEqual(fast);
    const random = new SecretKeySigner(sk).signEvent(template);
    expect(random.pubkey).toBe(vectors[1]!.publicKey);
    expect(verifiesEverywhere(random)).toBe(true);
  });

  it('rejects an out-of-range secret key on the fast path without naming it', async () => {
    await loadFastCrypto();
    const high = 'f'.repeat(64);
    for (const sign of [() => signEventAs(template, hexToBytes(high), vectors[0]!.publicKey), () => finalizeEvent(template, hexToBytes(high))]) {
      let shown = '';
      try {
        sign();
      } catch (error) {
        shown = `${String(error)}\n${inspect(error, { depth: 5 })}`;
      }
      expect(shown).not.toBe('');
      expect(shown).not.toContain(high.slice(0, 16));
    }
  });

  it('a SecretKeySigner signs with its kept public key and never shows the secret key', async () => {
    await loadFastCrypto();
    const v = vectors[0]!;
    const signer = new SecretKeySigner(hexToBytes(v.privateKey));
    const event = signer.signEvent(template);
    expect(event.pubkey).toBe(v.publicKey);
    expect(verifiesEverywhere(event)).toBe(true);
    const shown = [JSON.stringify(signer), inspect(signer, { showHidden: true, depth: 5 }), String(signer), JSON.stringify(event)].join('\n');
    expect(shown).not.toContain(v.privateKey);
    expect(shown).toContain(v.publicKey);
  });
});
