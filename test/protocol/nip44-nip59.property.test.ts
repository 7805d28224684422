/** Property tests of NIP-44 and NIP-59 decoding: any payload or wrap from a stranger is refused with a reason, never a crash. */
import { base64 } from '@scure/base';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import * as nip44 from '../../src/protocol/nip44.js';
import { createChatRumor, wrapForRecipients } from '../../src/protocol/nip17.js';
import { createRumor, createSeal, createWrap, unwrapGift } from '../../src/protocol/nip59.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';

const alice = new SecretKeySigner(hexToBytes('a1'.repeat(32)));
const bob = new SecretKeySigner(hexToBytes('b2'.repeat(32)));
const mallory = new SecretKeySigner(hexToBytes('c3'.repeat(32)));
const wrapKey = hexToBytes('d4'.repeat(32));
const NOW = 1_700_000_000;
const key = nip44.getConversationKey(hexToBytes('a1'.repeat(32)), bob.getPublicKey());
beforeAll(async () => void (await loadFastCrypto()));
const wrapConversation = nip44.getConversationKey(wrapKey, bob.getPublicKey());
const REASONS = ['wrong-recipient', 'decrypt-failed', 'malformed-seal', 'bad-seal-signature', 'seal-rumor-mismatch', 'malformed-rumor'];

/** Flips, drops or inserts a character of `text` at `at`. */
function mutate(text: string, at: number, op: number, ch: string): string {
  const i = at % Math.max(1, text.length);
  if (op === 0) return text.slice(0, i) + ch + text.slice(i + 1);
  if (op === 1) return text.slice(0, i) + text.slice(i + 1);
  return text.slice(0, i) + ch + text.slice(i);
}
const edit = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 2 }), fc.constantFrom('A', '/', '+', '=', 'z', '0', '#', ' '));

/** Decrypts, expecting either the plaintext or a plain Error with a lowercase message. */
function decryptOrReason(payload: string): string | undefined {
  try {
    return nip44.decrypt(payload, key);
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^[a-z]/);
    return undefined;
  }
}

describe('NIP-44 decoding: generated payloads', () => {
  it('random strings, random bytes in base64, and any version byte are refused with a reason', () => {
    const bytes = fc.uint8Array({ minLength: 0, maxLength: 400 }).map((b) => base64.encode(b));
    const versioned = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ minLength: 98, maxLength: 300 })).map(([v, b]) => base64.encode(Uint8Array.of(v, ...b)));
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 300 }), bytes, versioned), (p) => void expect(decryptOrReason(p)).toBeUndefined()), { numRuns: 1000 });
  });

  it('any edit of a valid payload is refused, never decrypted to something else', () => {
    const payload = nip44.encrypt('the original message', key);
    fc.assert(
      fc.property(edit, ([at, op, ch]) => {
        const changed = mutate(payload, at, op, ch);
        const out = decryptOrReason(changed);
        if (out !== undefined) expect([changed === payload, out]).toEqual([true, 'the original message']);
      }),
      { numRuns: 2000 },
    );
  });

  it('an oversized payload is refused before any work', () => {
    expect(() => nip44.decrypt('A'.repeat(nip44.MAX_PAYLOAD_CHARS + 1), key)).toThrow(/too long/);
  });
});

describe('NIP-59 decoding: generated gift wraps', () => {
  const rumor = createChatRumor(alice.getPublicKey(), { recipients: [bob.getPublicKey()], content: 'hello bob', createdAt: NOW });
  const [wrap] = wrapForRecipients(rumor, alice, [bob.getPublicKey()], { now: NOW, random: () => 0.5, newWrapKey: () => wrapKey }, false);

  /** Opens `event` as bob; a refusal must carry a known reason and a detail. */
  function open(event: NostrEvent): ReturnType<typeof unwrapGift> {
    const result = unwrapGift(event, bob);
    if (!result.ok) {
      expect(REASONS).toContain(result.reason);
      expect(result.detail.length).toBeGreaterThan(3);
    }
    return result;
  }

  it('edits of the wrap content or tags are refused with a reason', () => {
    fc.assert(
      fc.property(edit, fc.boolean(), ([at, op, ch], inTags) => {
        const changed = inTags ? { ...wrap!, tags: [['p', mutate(bob.getPublicKey(), at, op, ch)]] } : { ...wrap!, content: mutate(wrap!.content, at, op, ch) };
        const result = open(changed);
        if (result.ok) expect(result.rumor.content).toBe('hello bob');
      }),
      { numRuns: 1000 },
    );
  });

  it('any seal text is refused with a reason', () => {
    const sealText = fc.oneof(fc.string({ maxLength: 120 }), fc.json({ maxDepth: 3 }), fc.constant(JSON.stringify({ ...createSeal(rumor, alice, bob.getPublicKey(), NOW), sig: '0'.repeat(128) })));
    fc.assert(
      fc.property(sealText, (text) => {
        // unwrapGift opens what the connection already verified: the outer signature is not its concern.
        const content = nip44.encrypt(text || ' ', wrapConversation);
        expect(open({ ...wrap!, content }).ok).toBe(false);
      }),
      { numRuns: 600 },
    );
  });

  it('a seal by someone else holding any rumor text, and a rumor claiming another author, are refused', () => {
    const rumorText = fc.oneof(fc.string({ maxLength: 120 }), fc.json({ maxDepth: 3 }));
    fc.assert(
      fc.property(rumorText, (text) => {
        const sealed = mallory.signEvent({ kind: 13, created_at: NOW, tags: [], content: mallory.nip44.encrypt(bob.getPublicKey(), text || ' ') });
        expect(open({ ...wrap!, content: nip44.encrypt(JSON.stringify(sealed), wrapConversation) }).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
    // Mallory seals a rumor that says Alice wrote it: refused as a forgery.
    const claim = createRumor({ kind: 14, created_at: NOW, tags: [['p', bob.getPublicKey()]], content: 'trust me' }, alice.getPublicKey());
    const sealed = mallory.signEvent({ kind: 13, created_at: NOW, tags: [], content: mallory.nip44.encrypt(bob.getPublicKey(), JSON.stringify(claim)) });
    expect(open(createWrap(sealed, bob.getPublicKey(), wrapKey, NOW))).toMatchObject({ ok: false, reason: 'seal-rumor-mismatch' });
  });
});
