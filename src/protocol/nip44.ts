/**
 * NIP-44 v2 encryption (secp256k1 ECDH + HKDF + ChaCha20 + HMAC-SHA256, padded).
 * The scheme is nostr-tools' audited implementation (its padding, @noble's ChaCha20, HMAC and HKDF);
 * this module adds the message-key step the official vectors check and a size guard, so callers
 * never hand untrusted megabytes to decrypt, and does the base64 step natively: @scure/base's
 * pure-JS base64 was three quarters of every encryption's time (a daemon's recovery snapshots, gift
 * wraps and trajectory events all pass through it), Node's is a memcpy-speed loop.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { chacha20 } from '@noble/ciphers/chacha.js';
import { equalBytes } from '@noble/ciphers/utils.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { v2 } from 'nostr-tools/nip44';
import { fastSharedX } from './crypto.js';

/** Largest plaintext NIP-44 v2 can carry (bytes). */
export const MAX_PLAINTEXT_BYTES = 65535;
/** Largest base64 payload a valid v2 message can have (65535 bytes padded → 65536 + 99 → base64). */
export const MAX_PAYLOAD_CHARS = 87472;

const SALT = new TextEncoder().encode('nip44-v2');
let openssl = true;

/**
 * The conversation key between a secret key and a peer's public key (symmetric):
 * HKDF-extract(sha256, ECDH x-coordinate, "nip44-v2"). Every gift wrap needs one with a fresh key.
 * The ECDH runs in libsecp256k1 (wasm) once loadFastCrypto() has loaded it (~0.2 ms), else in Node's
 * OpenSSL (~2 ms, about twice as fast as pure JS here), and nostr-tools' pure-JS path is the fallback
 * where OpenSSL lacks secp256k1. Invalid keys throw either way.
 */
export function getConversationKey(secretKey: Uint8Array, peerPublicKey: string): Uint8Array {
  if (openssl) {
    if (!secp256k1.utils.isValidSecretKey(secretKey)) throw new Error('invalid secret key');
    if (!/^[0-9a-f]{64}$/.test(peerPublicKey)) throw new Error('invalid public key: expected 64 hex characters');
    let fast: Uint8Array | undefined;
    try {
      fast = fastSharedX(secretKey, Buffer.from(peerPublicKey, 'hex'));
    } catch (cause) {
      throw new Error('invalid public key: not a point on secp256k1', { cause });
    }
    if (fast) return extract(sha256, fast, SALT);
    let ecdh;
    try {
      ecdh = createECDH('secp256k1');
    } catch {
      openssl = false;
      return v2.utils.getConversationKey(secretKey, peerPublicKey);
    }
    ecdh.setPrivateKey(secretKey);
    let shared: Uint8Array;
    try {
      shared = ecdh.computeSecret(Buffer.from(`02${peerPublicKey}`, 'hex'));
    } catch (cause) {
      throw new Error('invalid public key: not a point on secp256k1', { cause });
    }
    return extract(sha256, shared, SALT);
  }
  return v2.utils.getConversationKey(secretKey, peerPublicKey);
}

/** The per-message keys (ChaCha key, ChaCha nonce, HMAC key) for a conversation key and nonce. */
export function getMessageKeys(
  conversationKey: Uint8Array,
  nonce: Uint8Array,
): { chachaKey: Uint8Array; chachaNonce: Uint8Array; hmacKey: Uint8Array } {
  if (conversationKey.length !== 32) throw new Error('invalid conversation key length');
  if (nonce.length !== 32) throw new Error('invalid nonce length');
  const keys = expand(sha256, conversationKey, nonce, 76);
  return { chachaKey: keys.subarray(0, 32), chachaNonce: keys.subarray(32, 44), hmacKey: keys.subarray(44, 76) };
}

/** Padded length for a plaintext length (NIP-44 v2 padding scheme). */
export function calcPaddedLength(length: number): number {
  return v2.utils.calcPaddedLen(length);
}

/** The exact length (base64 characters) of the v2 payload for a plaintext of `plaintextBytes` (1 to 65535). */
export function payloadLength(plaintextBytes: number): number {
  if (!Number.isInteger(plaintextBytes) || plaintextBytes < 1 || plaintextBytes > MAX_PLAINTEXT_BYTES) throw new Error(`invalid plaintext size: ${plaintextBytes} bytes (NIP-44 v2 carries 1 to 65535)`);
  // version (1) + nonce (32) + length prefix (2) + padded plaintext + MAC (32), base64 with padding.
  return 4 * Math.ceil((1 + 32 + 2 + calcPaddedLength(plaintextBytes) + 32) / 3);
}

/**
 * Encrypts with a conversation key; `nonce` is random unless given (tests pass the vectors' nonces).
 * Refuses plaintexts outside 1–65535 bytes: nostr-tools also speaks a proposed extended length
 * prefix for larger messages, which most clients cannot read, so we never produce it.
 */
export function encrypt(plaintext: string, conversationKey: Uint8Array, nonce: Uint8Array = randomBytes(32)): string {
  const bytes = new TextEncoder().encode(plaintext).length;
  if (bytes < 1 || bytes > MAX_PLAINTEXT_BYTES) throw new Error(`invalid plaintext size: ${bytes} bytes (NIP-44 v2 carries 1 to 65535)`);
  const { chachaKey, chachaNonce, hmacKey } = getMessageKeys(conversationKey, nonce);
  const ciphertext = chacha20(chachaKey, chachaNonce, v2.utils.pad(plaintext));
  const mac = hmac(sha256, hmacKey, concatBytes(nonce, ciphertext));
  return Buffer.concat([VERSION_BYTE, nonce, ciphertext, mac]).toString('base64');
}

const VERSION_BYTE = Uint8Array.of(2);
/** Canonical padded base64 (what every v2 payload is); Node's decoder alone would skip stray characters. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decrypts a payload; throws a plain error on anything invalid (size, version, base64, MAC, padding). */
export function decrypt(payload: string, conversationKey: Uint8Array): string {
  if (payload.length > MAX_PAYLOAD_CHARS) throw new Error('invalid payload length: too long for NIP-44 v2');
  if (payload.length < 132) throw new Error(`invalid payload length: ${payload.length}`);
  if (payload[0] === '#') throw new Error('unknown encryption version');
  if (!BASE64.test(payload)) throw new Error('invalid base64');
  const data = Buffer.from(payload, 'base64');
  // A non-canonical final quantum (unused bits set) decodes too: one payload, one string.
  if (data.toString('base64') !== payload) throw new Error('invalid base64: non-canonical');
  if (data.length < 99) throw new Error(`invalid data length: ${data.length}`);
  if (data[0] !== 2) throw new Error(`unknown encryption version ${data[0]}`);
  const nonce = data.subarray(1, 33);
  const ciphertext = data.subarray(33, -32);
  const { chachaKey, chachaNonce, hmacKey } = getMessageKeys(conversationKey, nonce);
  if (!equalBytes(hmac(sha256, hmacKey, concatBytes(nonce, ciphertext)), data.subarray(-32))) throw new Error('invalid MAC');
  return v2.utils.unpad(chacha20(chachaKey, chachaNonce, ciphertext));
}
