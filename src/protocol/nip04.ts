/**
 * NIP-04 legacy DMs (AES-256-CBC over a secp256k1 shared secret), for clients that still send kind 4.
 * Deprecated in favor of NIP-17, kept so such clients get an answer. Uses nostr-tools' implementation.
 */
import * as nip04 from 'nostr-tools/nip04';

/** Largest NIP-04 payload we attempt to decrypt (characters). Kind 4 bodies are small. */
export const MAX_NIP04_PAYLOAD_CHARS = 200_000;

/** The exact length (characters) of the payload for a text of `textBytes` UTF-8 bytes: AES-CBC pads to 16-byte blocks. */
export function payloadLength(textBytes: number): number {
  if (!Number.isInteger(textBytes) || textBytes < 0) throw new Error(`invalid nip04 text size: ${textBytes}`);
  // base64(ciphertext) + "?iv=" + base64(16-byte iv) (24 characters).
  return 4 * Math.ceil((16 * (Math.floor(textBytes / 16) + 1)) / 3) + 4 + 24;
}

/** The most UTF-8 bytes of text whose payload is at most `maxChars` long (the exact inverse of payloadLength). */
export function maxTextBytes(maxChars: number): number {
  const blocks = Math.floor((Math.floor((maxChars - 28) / 4) * 3) / 16);
  return Math.max(-1, 16 * blocks - 1);
}

/** Encrypts `text` for `peerPublicKey` → `base64?iv=base64`. */
export function encrypt(secretKey: Uint8Array, peerPublicKey: string, text: string): string {
  return nip04.encrypt(secretKey, peerPublicKey, text);
}

/** Decrypts a NIP-04 payload; throws a plain error when it is malformed or too large. */
export function decrypt(secretKey: Uint8Array, peerPublicKey: string, payload: string): string {
  if (payload.length > MAX_NIP04_PAYLOAD_CHARS) throw new Error('invalid nip04 payload: too long');
  if (!/^[A-Za-z0-9+/=]+\?iv=[A-Za-z0-9+/=]+$/.test(payload)) throw new Error('invalid nip04 payload: expected base64?iv=base64');
  return nip04.decrypt(secretKey, peerPublicKey, payload);
}
