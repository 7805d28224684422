import { HDKey } from '@scure/bip32';
import { mnemonicToSeedSync } from '@scure/bip39';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getPublicKey, loadFastCrypto, useFastCrypto } from '../../src/protocol/crypto.js';
import { bytesToHex } from '../../src/protocol/hex.js';
import { agentAccount, deriveFromSeed, deriveMany, generateMnemonic, mnemonicProblem, mnemonicToSeed, Nip06Deriver, nip06Path } from '../../src/protocol/nip06.js';
import { loadVectors, type Nip06Vectors } from '../helpers/vectors.js';

const { vectors } = loadVectors<Nip06Vectors>('nip06.vectors.json');

/** The reference: @scure/bip32 along the whole NIP-06 path. */
function scureKey(seed: Uint8Array, account: number): { secretKey: string; publicKey: string } {
  const key = HDKey.fromMasterSeed(seed).derive(nip06Path(account));
  return { secretKey: bytesToHex(key.privateKey!), publicKey: getPublicKey(key.privateKey!) };
}

describe('NIP-06 derivation', () => {
  it.each(vectors)('derives the vector keys of account $account', (v) => {
    const key = deriveFromSeed(mnemonicToSeed(v.mnemonic), v.account);
    expect(key.path).toBe(`m/44'/1237'/${v.account}'/0/0`);
    expect(bytesToHex(key.secretKey)).toBe(v.privateKey);
    expect(key.publicKey).toBe(v.publicKey);
  });

  it('derives many accounts from one seed exactly as one by one', () => {
    const seed = mnemonicToSeed(vectors[0]!.mnemonic);
    const many = deriveMany(seed, [0, 1, 2, 50]);
    for (const k of many) expect(k.publicKey).toBe(deriveFromSeed(seed, k.account).publicKey);
    expect(many[0]!.publicKey).toBe(vectors[0]!.publicKey);
    expect(new Set(many.map((k) => k.publicKey)).size).toBe(4);
  });

  // The deriver's own BIP-32 steps against @scure/bip32 (deriveFromSeed), with the pure-JS and the wasm multiplications.
  it.each(['js', 'wasm'])('derives what @scure/bip32 derives (%s engine)', async (engine) => {
    if (engine === 'wasm') await loadFastCrypto();
    try {
      for (const v of vectors) {
        const key = new Nip06Deriver(mnemonicToSeed(v.mnemonic)).derive(v.account);
        expect([bytesToHex(key.secretKey), key.publicKey]).toEqual([v.privateKey, v.publicKey]);
      }
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 16, maxLength: 64 }), fc.integer({ min: 0, max: 0x7fffffff }), (seed, account) => {
          const mine = new Nip06Deriver(seed).derive(account);
          const theirs = scureKey(seed, account);
          expect([bytesToHex(mine.secretKey), mine.publicKey]).toEqual([theirs.secretKey, theirs.publicKey]);
          const one = deriveFromSeed(seed, account);
          expect([bytesToHex(one.secretKey), one.publicKey]).toEqual([theirs.secretKey, theirs.publicKey]);
        }),
        { numRuns: 30 },
      );
      expect(() => new Nip06Deriver(mnemonicToSeed(vectors[0]!.mnemonic)).derive(0x80000000)).toThrow(/account must be/);
    } finally {
      useFastCrypto(false);
    }
  });

  // The native PBKDF2 against @scure/bip39's, with passphrases that NFKD changes (composed accents, a ligature).
  it('computes the seed @scure/bip39 computes', () => {
    const mnemonic = vectors[0]!.mnemonic;
    for (const passphrase of ['', 'TREZOR', 'caf\u00e9 \ufb01n', 'cafe\u0301']) {
      expect(bytesToHex(mnemonicToSeed(mnemonic, passphrase))).toBe(bytesToHex(mnemonicToSeedSync(mnemonic, passphrase)));
    }
    expect(bytesToHex(mnemonicToSeed(`  ${mnemonic.toUpperCase()} `))).toBe(bytesToHex(mnemonicToSeedSync(mnemonic)));
  });

  it('maps agent n to account n+1 and a BIP-39 passphrase changes every key', () => {
    expect(agentAccount(0)).toBe(1);
    expect(nip06Path(agentAccount(4))).toBe("m/44'/1237'/5'/0/0");
    const plain = deriveFromSeed(mnemonicToSeed(vectors[0]!.mnemonic), 0);
    const withPass = deriveFromSeed(mnemonicToSeed(vectors[0]!.mnemonic, 'TREZOR'), 0);
    expect(withPass.publicKey).not.toBe(plain.publicKey);
  });

  it('explains what is wrong with a bad mnemonic', () => {
    expect(mnemonicProblem(vectors[0]!.mnemonic)).toBeUndefined();
    expect(mnemonicProblem('leader monkey')).toMatch(/12, 15, 18, 21 or 24 words, this one has 2/);
    expect(mnemonicProblem(vectors[0]!.mnemonic.replace('parrot', 'parot'))).toMatch(/word 3 \("parot"\)/);
    expect(mnemonicProblem(vectors[0]!.mnemonic.replace('naive bean', 'bean naive'))).toMatch(/checksum/);
    expect(() => mnemonicToSeed('nope')).toThrow(/invalid mnemonic/);
    expect(() => deriveFromSeed(new Uint8Array(64), -1)).toThrow(/account must be an integer/);
  });

  it('generates valid 12- and 24-word mnemonics', () => {
    expect(generateMnemonic(12).split(' ')).toHaveLength(12);
    const m24 = generateMnemonic(24);
    expect(m24.split(' ')).toHaveLength(24);
    expect(mnemonicProblem(m24)).toBeUndefined();
  });
});
