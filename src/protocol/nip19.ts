/** NIP-19 bech32 entities: npub/nsec for keys, nprofile/note/nevent for references. */
import * as nip19 from 'nostr-tools/nip19';
import { isHex32 } from './hex.js';

/** npub of a hex public key. */
export function npubEncode(publicKey: string): string {
  return nip19.npubEncode(publicKey);
}

/** nsec of a secret key. */
export function nsecEncode(secretKey: Uint8Array): string {
  return nip19.nsecEncode(secretKey);
}

/** nprofile of a public key with optional relay hints. */
export function nprofileEncode(publicKey: string, relays: string[] = []): string {
  return nip19.nprofileEncode({ pubkey: publicKey, relays });
}

/** Decodes any NIP-19 entity (throws on bad bech32 or an unknown prefix). */
export const decode = nip19.decode;

/**
 * A public key from hex, npub or nprofile; throws an error naming what was wrong.
 * The one place user-supplied pubkeys are normalized.
 */
export function parsePublicKey(input: string): string {
  const value = input.trim().replace(/^nostr:/, '');
  if (isHex32(value.toLowerCase())) return value.toLowerCase();
  let decoded: ReturnType<typeof nip19.decode>;
  try {
    decoded = nip19.decode(value);
  } catch (cause) {
    throw new Error(`not a public key (expected 64 hex characters, npub1… or nprofile1…): ${value.slice(0, 16)}…`, { cause });
  }
  if (decoded.type === 'npub') return decoded.data;
  if (decoded.type === 'nprofile') return decoded.data.pubkey;
  throw new Error(`expected an npub or nprofile, got ${decoded.type}`);
}
