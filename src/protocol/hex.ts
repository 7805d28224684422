/** Hex helpers and shape checks for 32-byte keys and 64-byte signatures. */
export { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';

const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;

/** True for a lowercase 32-byte hex string (event ids, pubkeys). */
export function isHex32(value: string): boolean {
  return HEX64.test(value);
}

/** True for a lowercase 64-byte hex string (Schnorr signatures). */
export function isHex64(value: string): boolean {
  return HEX128.test(value);
}
