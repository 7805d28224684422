/**
 * NIP-49 `ncryptsec`: one private key encrypted with a password (scrypt + XChaCha20-Poly1305),
 * for exporting a single agent key to another client. Uses nostr-tools' implementation.
 */
import * as nip49 from 'nostr-tools/nip49';

/** Default scrypt cost (2^16 rounds, 64 MiB): about a tenth of a second on a laptop. */
export const DEFAULT_LOG_N = 16;

/** Encrypts a secret key to an `ncryptsec1…` string. Key security byte 0x02: "not tracked". */
export function encryptKey(secretKey: Uint8Array, password: string, logN = DEFAULT_LOG_N): string {
  return nip49.encrypt(secretKey, password.normalize('NFKC'), logN, 0x02);
}

/** Decrypts an `ncryptsec1…` string; throws a plain error on a wrong password or bad data. */
export function decryptKey(ncryptsec: string, password: string): Uint8Array {
  try {
    return nip49.decrypt(ncryptsec, password.normalize('NFKC'));
  } catch (cause) {
    throw new Error('could not decrypt ncryptsec (wrong password or corrupted data)', { cause });
  }
}
