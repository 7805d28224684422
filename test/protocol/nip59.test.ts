import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { finalizeEvent, verifyEvent } from '../../src/protocol/crypto.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { decode } from '../../src/protocol/nip19.js';
import * as nip44 from '../../src/protocol/nip44.js';
import { MAX_BACKDATE_SECONDS, backdate, createRumor, createSeal, createWrap, unwrapGift } from '../../src/protocol/nip59.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';

const examples = JSON.parse(readFileSync(new URL('./nip59-spec-examples.json', import.meta.url), 'utf8'));

function nsec(value: string): Uint8Array {
  const d = decode(value);
  if (d.type !== 'nsec') throw new Error('expected nsec');
  return d.data;
}

const alice = new SecretKeySigner(hexToBytes('0beebd062ec8735f4243466049d7747ef5d6594ee838de147f8aab842b15e273'));
const bob = new SecretKeySigner(hexToBytes('e108399bd8424357a710b606ae0c13166d853d327e47a6e5e038197346bdbf45'));
const mallory = new SecretKeySigner(hexToBytes('5c0c523f52a5b6fad39ed2403092df8cebc36318b39383bca6c00808626fab3a'));
const wrapKey = hexToBytes('4f02eac59266002db5801adc5270700ca69d5b8f761d8732fab2fbf233c90cbd');

describe('NIP-59 spec examples', () => {
  it('opens the NIP-59 example wrap and authenticates its author', () => {
    const recipient = new SecretKeySigner(hexToBytes(examples.nip59.recipientSecretKey));
    const result = unwrapGift(examples.nip59.wrap as NostrEvent, recipient);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.rumor.id).toBe(examples.nip59.rumorId);
    expect(result.rumor.pubkey).toBe(examples.nip59.authorPubkey);
    expect(result.rumor.content).toBe(examples.nip59.content);
  });

  it('opens both NIP-17 example wraps (receiver copy and sender copy)', () => {
    const receiver = new SecretKeySigner(nsec(examples.nip17.receiverNsec));
    const sender = new SecretKeySigner(nsec(examples.nip17.senderNsec));
    const [toReceiver, toSender] = examples.nip17.wraps as NostrEvent[];
    const a = unwrapGift(toReceiver as NostrEvent, receiver);
    const b = unwrapGift(toSender as NostrEvent, sender);
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(a.rumor.content).toBe(examples.nip17.content);
    expect(a.rumor.kind).toBe(14);
    expect(a.rumor.pubkey).toBe(sender.getPublicKey());
    expect(b.rumor.id).toBe(a.rumor.id);
    // The receiver's key cannot open the sender's copy.
    expect(unwrapGift(toSender as NostrEvent, receiver)).toMatchObject({ ok: false, reason: 'wrong-recipient' });
  });
});

describe('NIP-59 wrap and unwrap', () => {
  const now = 1_700_000_000;
  const rumor = createRumor({ kind: 14, created_at: now, tags: [['p', bob.getPublicKey()]], content: 'hi bob' }, alice.getPublicKey());

  it('round-trips with backdated, verifiable seal and wrap', () => {
    const seal = createSeal(rumor, alice, bob.getPublicKey(), backdate(now, () => 0.5));
    const wrap = createWrap(seal, bob.getPublicKey(), wrapKey, backdate(now, () => 0.999));
    expect(seal.tags).toEqual([]);
    expect(seal.created_at).toBe(now - MAX_BACKDATE_SECONDS / 2);
    expect(wrap.created_at).toBeGreaterThan(now - MAX_BACKDATE_SECONDS);
    expect(wrap.created_at).toBeLessThan(now);
    expect(verifyEvent(wrap)).toBe(true);
    expect(wrap.pubkey).not.toBe(alice.getPublicKey());
    expect(wrap.tags).toEqual([['p', bob.getPublicKey()]]);
    const opened = unwrapGift(wrap, bob);
    expect(opened).toMatchObject({ ok: true, rumor: { id: rumor.id, content: 'hi bob', pubkey: alice.getPublicKey() } });
  });

  it('refuses a seal whose pubkey differs from the rumor (impersonation)', () => {
    // Mallory seals a rumor that claims to come from Alice: the seal is validly signed by Mallory.
    const forgedRumor = { ...rumor };
    const content = mallory.nip44.encrypt(bob.getPublicKey(), JSON.stringify(forgedRumor));
    const seal = mallory.signEvent({ kind: 13, created_at: now, tags: [], content });
    const wrap = createWrap(seal, bob.getPublicKey(), wrapKey, now);
    expect(unwrapGift(wrap, bob)).toMatchObject({ ok: false, reason: 'seal-rumor-mismatch' });
  });

  it('refuses a seal with a bad signature', () => {
    const seal = createSeal(rumor, alice, bob.getPublicKey(), now);
    const tampered = { ...seal, sig: seal.sig.slice(0, -2) + (seal.sig.endsWith('00') ? '01' : '00') };
    const wrap = createWrap(tampered, bob.getPublicKey(), wrapKey, now);
    expect(unwrapGift(wrap, bob)).toMatchObject({ ok: false, reason: 'bad-seal-signature' });
  });

  it('refuses a wrap for someone else, undecryptable content and a non-seal inside', () => {
    const seal = createSeal(rumor, alice, bob.getPublicKey(), now);
    const wrap = createWrap(seal, bob.getPublicKey(), wrapKey, now);
    expect(unwrapGift(wrap, mallory)).toMatchObject({ ok: false, reason: 'wrong-recipient' });
    // p-tagged to Mallory but encrypted to Bob.
    const misdirected = finalizeEvent({ kind: 1059, created_at: now, tags: [['p', mallory.getPublicKey()]], content: wrap.content }, wrapKey);
    expect(unwrapGift(misdirected, mallory)).toMatchObject({ ok: false, reason: 'decrypt-failed' });
    const note = finalizeEvent({ kind: 1, created_at: now, tags: [], content: 'x' }, hexToBytes(examples.nip59.recipientSecretKey));
    const inner = nip44.encrypt(JSON.stringify(note), nip44.getConversationKey(wrapKey, bob.getPublicKey()));
    const notSeal = finalizeEvent({ kind: 1059, created_at: now, tags: [['p', bob.getPublicKey()]], content: inner }, wrapKey);
    expect(unwrapGift(notSeal, bob)).toMatchObject({ ok: false, reason: 'malformed-seal' });
    const garbage = finalizeEvent({ kind: 1059, created_at: now, tags: [['p', bob.getPublicKey()]], content: 'not nip44' }, wrapKey);
    expect(unwrapGift(garbage, bob)).toMatchObject({ ok: false, reason: 'decrypt-failed' });
  });

  it('refuses a rumor whose id does not match its content', () => {
    const bad = { ...rumor, content: 'changed after hashing' };
    const content = alice.nip44.encrypt(bob.getPublicKey(), JSON.stringify(bad));
    const seal = alice.signEvent({ kind: 13, created_at: now, tags: [], content });
    expect(unwrapGift(createWrap(seal, bob.getPublicKey(), wrapKey, now), bob)).toMatchObject({ ok: false, reason: 'malformed-rumor' });
  });

  it('refuses to seal a rumor authored by another key', () => {
    expect(() => createSeal(rumor, mallory, bob.getPublicKey(), now)).toThrow(/rumor author/);
  });
});
