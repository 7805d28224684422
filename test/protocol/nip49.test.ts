import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/protocol/hex.js';
import { decryptKey, encryptKey } from '../../src/protocol/nip49.js';

// Test data from NIP-49 (49.md, "Test Data").
const NCRYPTSEC =
  'ncryptsec1qgg9947rlpvqu76pj5ecreduf9jxhselq2nae2kghhvd5g7dgjtcxfqtd67p9m0w57lspw8gsq6yphnm8623nsl8xn9j4jdzz84zm3frztj3z7s35vpzmqf6ksu8r89qk5z2zxfmu5gv8th8wclt0h4p';
const KEY = '3501454135014541350145413501453fefb02227e449e57cf4d3a3ce05378683';

describe('NIP-49 ncryptsec', () => {
  it('decrypts the spec test data with password "nostr"', () => {
    expect(bytesToHex(decryptKey(NCRYPTSEC, 'nostr'))).toBe(KEY);
  });

  it('round-trips and refuses a wrong password', () => {
    const sealed = encryptKey(hexToBytes(KEY), 'correct horse', 16);
    expect(sealed.startsWith('ncryptsec1')).toBe(true);
    expect(bytesToHex(decryptKey(sealed, 'correct horse'))).toBe(KEY);
    expect(() => decryptKey(sealed, 'wrong')).toThrow(/wrong password/);
  });
});
