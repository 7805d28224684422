/** Every NIP-44 v2 vector (valid and invalid sections) through src/protocol/nip44 and the Signer. */
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastSharedX, getPublicKey, loadFastCrypto, useFastCrypto } from '../../src/protocol/crypto.js';
import { bytesToHex, hexToBytes } from '../../src/protocol/hex.js';
import * as nip44 from '../../src/protocol/nip44.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { loadVectors } from '../helpers/vectors.js';

interface V44 {
  v2: {
    valid: {
      get_conversation_key: Array<{ sec1: string; pub2: string; conversation_key: string }>;
      get_message_keys: { conversation_key: string; keys: Array<{ nonce: string; chacha_key: string; chacha_nonce: string; hmac_key: string }> };
      calc_padded_len: Array<[number, number]>;
      encrypt_decrypt: Array<{ sec1: string; sec2: string; conversation_key: string; nonce: string; plaintext: string; payload: string }>;
      encrypt_decrypt_long_msg: Array<{ conversation_key: string; nonce: string; letter: string; repeat: number; payload_checksum_sha256: string }>;
    };
    invalid: {
      encrypt_msg_lengths: number[];
      decrypt_msg_lengths: number[];
      get_conversation_key: Array<{ sec1: string; pub2: string; note: string }>;
      decrypt: Array<{ conversation_key: string; nonce: string; plaintext: string; payload: string; note: string }>;
    };
  };
}

const { valid, invalid } = loadVectors<V44>('nip44.vectors.json').v2;

describe('NIP-44 v2 valid vectors', () => {
  it.each(valid.get_conversation_key)('conversation key $conversation_key', (v) => {
    expect(bytesToHex(nip44.getConversationKey(hexToBytes(v.sec1), v.pub2))).toBe(v.conversation_key);
  });

  it.each(valid.get_message_keys.keys)('message keys for nonce $nonce', (v) => {
    const keys = nip44.getMessageKeys(hexToBytes(valid.get_message_keys.conversation_key), hexToBytes(v.nonce));
    expect(bytesToHex(keys.chachaKey)).toBe(v.chacha_key);
    expect(bytesToHex(keys.chachaNonce)).toBe(v.chacha_nonce);
    expect(bytesToHex(keys.hmacKey)).toBe(v.hmac_key);
  });

  it.each(valid.calc_padded_len)('padded length of %i is %i', (len, padded) => {
    expect(nip44.calcPaddedLength(len)).toBe(padded);
  });

  it.each(valid.encrypt_decrypt)('encrypts and decrypts "$plaintext"', (v) => {
    const key = hexToBytes(v.conversation_key);
    expect(bytesToHex(nip44.getConversationKey(hexToBytes(v.sec1), getPublicKey(hexToBytes(v.sec2))))).toBe(v.conversation_key);
    expect(nip44.encrypt(v.plaintext, key, hexToBytes(v.nonce))).toBe(v.payload);
    expect(nip44.decrypt(v.payload, key)).toBe(v.plaintext);
    // Through the Signer: the recipient reads the vector's payload, and a fresh encryption round-trips.
    const alice = new SecretKeySigner(hexToBytes(v.sec1));
    const bob = new SecretKeySigner(hexToBytes(v.sec2));
    expect(bob.nip44.decrypt(alice.getPublicKey(), v.payload)).toBe(v.plaintext);
    expect(bob.nip44.decrypt(alice.getPublicKey(), alice.nip44.encrypt(bob.getPublicKey(), v.plaintext))).toBe(v.plaintext);
  });

  it.each(valid.encrypt_decrypt_long_msg)('long message of $repeat × "$letter"', (v) => {
    const key = hexToBytes(v.conversation_key);
    const plaintext = v.letter.repeat(v.repeat);
    const bytes = new TextEncoder().encode(plaintext).length;
    if (bytes > nip44.MAX_PLAINTEXT_BYTES) {
      // 65535 two-byte letters are 131070 bytes: past v2's 65535-byte limit, which the invalid
      // encrypt_msg_lengths vectors (65536 and up) require us to refuse. The file gives no checksum for it.
      expect(v.payload_checksum_sha256).toBe('');
      expect(() => nip44.encrypt(plaintext, key, hexToBytes(v.nonce))).toThrow(/invalid plaintext size/);
      return;
    }
    const payload = nip44.encrypt(plaintext, key, hexToBytes(v.nonce));
    expect(bytesToHex(sha256(new TextEncoder().encode(payload)))).toBe(v.payload_checksum_sha256);
    expect(nip44.decrypt(payload, key)).toBe(plaintext);
  });

  it('round-trips the largest plaintext v2 allows (65535 bytes)', () => {
    const key = hexToBytes(valid.encrypt_decrypt_long_msg[0]!.conversation_key);
    const plaintext = 'x'.repeat(nip44.MAX_PLAINTEXT_BYTES);
    const payload = nip44.encrypt(plaintext, key);
    expect(payload.length).toBeLessThanOrEqual(nip44.MAX_PAYLOAD_CHARS);
    expect(nip44.decrypt(payload, key)).toBe(plaintext);
  });
});

describe('NIP-44 v2 invalid vectors', () => {
  const key = new Uint8Array(32).fill(1);

  it.each(invalid.encrypt_msg_lengths)('refuses to encrypt a %i-byte plaintext', (len) => {
    expect(() => nip44.encrypt('a'.repeat(len), key)).toThrow();
  });

  it.each(invalid.decrypt_msg_lengths)('refuses to decrypt a %i-character payload', (len) => {
    expect(() => nip44.decrypt('a'.repeat(len), key)).toThrow();
  });

  it.each(invalid.get_conversation_key)('refuses a conversation key: $note', (v) => {
    expect(() => nip44.getConversationKey(hexToBytes(v.sec1), v.pub2)).toThrow();
  });

  it.each(invalid.decrypt)('refuses to decrypt: $note', (v) => {
    expect(() => nip44.decrypt(v.payload, hexToBytes(v.conversation_key))).toThrow();
  });
});

// The blocks above run before the wasm engines load (OpenSSL's ECDH); this one runs the same vectors through libsecp256k1.
describe('NIP-44 v2 conversation keys with the wasm ECDH loaded', () => {
  beforeAll(async () => {
    await loadFastCrypto();
  });
  afterAll(() => useFastCrypto(false));

  it('is the engine in use', () => {
    expect(fastSharedX(hexToBytes(valid.get_conversation_key[0]!.sec1), hexToBytes(valid.get_conversation_key[0]!.pub2))).toBeDefined();
  });

  it.each(valid.get_conversation_key)('conversation key $conversation_key', (v) => {
    expect(bytesToHex(nip44.getConversationKey(hexToBytes(v.sec1), v.pub2))).toBe(v.conversation_key);
  });

  it.each(invalid.get_conversation_key)('refuses a conversation key: $note', (v) => {
    expect(() => nip44.getConversationKey(hexToBytes(v.sec1), v.pub2)).toThrow();
  });
});
