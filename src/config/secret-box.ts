/**
 * Passphrase encryption for the mnemonic at rest: scrypt derives a key, XChaCha20-Poly1305 seals.
 * Same primitives as NIP-49, applied to a whole mnemonic. The parameters travel with the data so
 * the cost can be raised later without breaking old files.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { scrypt } from '@noble/hashes/scrypt.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { base64urlnopad } from '@scure/base';
import { CodedError } from '../util/errors.js';

const VERSION = 'v1';
const AAD = new TextEncoder().encode('nostr-agent-runtime keys v1');
/** Default scrypt cost 2^16 (64 MiB), as NIP-49 suggests for interactive use. */
export const DEFAULT_LOG_N = 16;

/** Raised when a sealed box cannot be opened: wrong passphrase or damaged data (indistinguishable). */
export class WrongPassphraseError extends CodedError {
  override name = 'WrongPassphraseError';
  constructor(message: string, options?: ErrorOptions) {
    super('WRONG_PASSPHRASE', message, { ...options, permanent: true });
  }
}

function deriveKey(passphrase: string, salt: Uint8Array, logN: number): Uint8Array {
  return scrypt(new TextEncoder().encode(passphrase.normalize('NFKC')), salt, { N: 2 ** logN, r: 8, p: 1, dkLen: 32, maxmem: 2 ** (logN + 11) });
}

/** Seals `plaintext` as `v1.<logN>.<salt>.<nonce>.<ciphertext>` (base64url parts). */
export function seal(plaintext: string, passphrase: string, logN = DEFAULT_LOG_N, random = randomBytes): string {
  if (!passphrase) throw new Error('the passphrase must not be empty');
  const salt = random(16);
  const nonce = random(24);
  const key = deriveKey(passphrase, salt, logN);
  const ciphertext = xchacha20poly1305(key, nonce, AAD).encrypt(new TextEncoder().encode(plaintext));
  key.fill(0);
  return [VERSION, String(logN), base64urlnopad.encode(salt), base64urlnopad.encode(nonce), base64urlnopad.encode(ciphertext)].join('.');
}

/** Opens a sealed string; throws WrongPassphraseError on a wrong passphrase, plain Error on bad format. */
export function open(sealed: string, passphrase: string): string {
  const parts = sealed.trim().split('.');
  const [version, logNText, saltText, nonceText, cipherText] = parts;
  if (parts.length !== 5 || version !== VERSION || !logNText || !saltText || !nonceText || !cipherText) {
    throw new Error('not an encrypted mnemonic of a known format (expected v1.<logN>.<salt>.<nonce>.<ciphertext>)');
  }
  const logN = Number(logNText);
  if (!Number.isInteger(logN) || logN < 10 || logN > 22) throw new Error(`unsupported scrypt cost log_n=${logNText}`);
  let salt: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array;
  try {
    salt = base64urlnopad.decode(saltText);
    nonce = base64urlnopad.decode(nonceText);
    ciphertext = base64urlnopad.decode(cipherText);
  } catch (cause) {
    throw new Error('the encrypted mnemonic is damaged (bad base64)', { cause });
  }
  const key = deriveKey(passphrase, salt, logN);
  try {
    return new TextDecoder().decode(xchacha20poly1305(key, nonce, AAD).decrypt(ciphertext));
  } catch (cause) {
    throw new WrongPassphraseError('wrong passphrase (or the encrypted mnemonic is damaged)', { cause });
  } finally {
    key.fill(0);
  }
}
