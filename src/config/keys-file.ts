/**
 * The keys file (`<home>/keys`, format in keys.example): `name = value` lines and `#` comments,
 * holding the owner's BIP-39 mnemonic either in plain text or sealed with a passphrase.
 * Chosen over JSON so the file can carry comments telling the owner how to back it up.
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { mnemonicProblem, normalizeMnemonic } from '../protocol/nip06.js';
import { KeysError } from './errors.js';
import { open, seal, WrongPassphraseError } from './secret-box.js';

/** The parsed content of a keys file. Exactly one of the two is set. */
export type KeysFile = { mnemonic: string; encrypted?: undefined } | { encrypted: string; mnemonic?: undefined };

const FIELDS = new Set(['mnemonic', 'encrypted-mnemonic']);

/** Parses keys-file text; errors name the file and line, never the mnemonic. */
export function parseKeysFile(text: string, file: string): KeysFile {
  const values = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq < 0) throw new KeysError(`${file}:${i + 1}: expected "name = value"`);
    const name = line.slice(0, eq).trim();
    if (!FIELDS.has(name)) throw new KeysError(`${file}:${i + 1}: unknown field "${name}" (known: mnemonic, encrypted-mnemonic)`);
    if (values.has(name)) throw new KeysError(`${file}:${i + 1}: "${name}" is given twice`);
    values.set(name, line.slice(eq + 1).trim());
  });
  const mnemonic = values.get('mnemonic');
  const encrypted = values.get('encrypted-mnemonic');
  if (mnemonic && encrypted) throw new KeysError(`${file}: has both "mnemonic" and "encrypted-mnemonic"; keep one`);
  if (encrypted) return { encrypted };
  if (!mnemonic) throw new KeysError(`${file}: no "mnemonic" or "encrypted-mnemonic" line`);
  const problem = mnemonicProblem(mnemonic);
  if (problem) throw new KeysError(`${file}: invalid mnemonic: ${problem}`);
  return { mnemonic: normalizeMnemonic(mnemonic) };
}

const HEADER = [
  '# Keys file of the Nostr agent runtime. It holds the OWNER mnemonic: every agent key is derived',
  '# from it (NIP-06, m/44\'/1237\'/<account>\'/0/0). Back it up offline; anyone with it controls your agents.',
  '# Format: see keys.example in the project. Keep this file private (mode 600).',
];

/** Serializes a keys file (with the explanatory header). */
export function formatKeysFile(keys: KeysFile): string {
  const body = keys.mnemonic !== undefined ? `mnemonic = ${keys.mnemonic}` : `encrypted-mnemonic = ${keys.encrypted}`;
  return `${HEADER.join('\n')}\n${body}\n`;
}

/** Writes a keys file with mode 0600 (creating the home directory with 0700). */
export function writeKeysFile(file: string, keys: KeysFile): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, formatKeysFile(keys), { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** True when group or others can read or write the file. */
export function isTooOpen(file: string): boolean {
  return (statSync(file).mode & 0o077) !== 0;
}

/** Reads and parses a keys file, or undefined when it does not exist. */
export function readKeysFile(file: string): KeysFile | undefined {
  if (!existsSync(file)) return undefined;
  return parseKeysFile(readFileSync(file, 'utf8'), file);
}

/** Seals a mnemonic with a passphrase for the keys file. */
export function encryptMnemonic(mnemonic: string, passphrase: string, logN?: number): KeysFile {
  return { encrypted: seal(normalizeMnemonic(mnemonic), passphrase, logN) };
}

/** Opens a sealed mnemonic; a wrong passphrase becomes a KeysError that says so. */
export function decryptMnemonic(encrypted: string, passphrase: string, file: string): string {
  try {
    const mnemonic = open(encrypted, passphrase);
    const problem = mnemonicProblem(mnemonic);
    if (problem) throw new KeysError(`${file}: the decrypted mnemonic is invalid: ${problem}`);
    return mnemonic;
  } catch (error) {
    if (error instanceof KeysError) throw error;
    if (error instanceof WrongPassphraseError) throw new KeysError(`${file}: wrong passphrase for the encrypted mnemonic`, { cause: error });
    throw new KeysError(`${file}: ${(error as Error).message}`, { cause: error });
  }
}
