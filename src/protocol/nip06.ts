/**
 * NIP-06: keys from a BIP-39 mnemonic along `m/44'/1237'/<account>'/0/0`.
 * The owner is account 0; agent n is account n+1. The seed (PBKDF2, the slow part) is computed once
 * by the caller and reused, so deriving a thousand agents costs a thousand cheap BIP-32 steps.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { HDKey } from '@scure/bip32';
import { generateMnemonic as bip39Generate, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { getPublicKey } from './crypto.js';
import { bytesToHex } from './hex.js';

/** A derived key pair with where it came from. */
export interface DerivedKey {
  account: number;
  path: string;
  secretKey: Uint8Array;
  publicKey: string;
}

/** The NIP-06 path of an account. */
export function nip06Path(account: number): string {
  return `m/44'/1237'/${account}'/0/0`;
}

/** The account that holds agent n (owner = 0, agent n = n + 1). */
export function agentAccount(agentIndex: number): number {
  return agentIndex + 1;
}

/** Normalizes whitespace and case of a typed mnemonic. */
export function normalizeMnemonic(mnemonic: string): string {
  return mnemonic.trim().toLowerCase().split(/\s+/).join(' ');
}

/**
 * Explains what is wrong with a mnemonic, or returns undefined when it is valid.
 * Names the first unknown word, a wrong length or a failed checksum; never echoes the whole phrase.
 */
export function mnemonicProblem(mnemonic: string): string | undefined {
  const words = normalizeMnemonic(mnemonic).split(' ').filter(Boolean);
  if (![12, 15, 18, 21, 24].includes(words.length)) {
    return `a mnemonic has 12, 15, 18, 21 or 24 words, this one has ${words.length}`;
  }
  const index = words.findIndex((w) => !wordlist.includes(w));
  if (index >= 0) return `word ${index + 1} ("${words[index]}") is not in the BIP-39 English word list`;
  if (!validateMnemonic(words.join(' '), wordlist)) return 'the mnemonic checksum does not match (a word is wrong or out of order)';
  return undefined;
}

let warmed = false;
/** Precomputes the base-point table (window 8) that @scure/bip32's key math shares with ours. */
function warmUp(): void {
  if (warmed) return;
  secp256k1.Point.BASE.precompute(8, false);
  warmed = true;
}

/** A new BIP-39 mnemonic of 12 or 24 words. */
export function generateMnemonic(words: 12 | 24 = 12): string {
  return bip39Generate(wordlist, words === 24 ? 256 : 128);
}

/** The BIP-39 seed of a mnemonic (+ optional passphrase). Throws on an invalid mnemonic. */
export function mnemonicToSeed(mnemonic: string, passphrase = ''): Uint8Array {
  const problem = mnemonicProblem(mnemonic);
  if (problem) throw new Error(`invalid mnemonic: ${problem}`);
  return mnemonicToSeedSync(normalizeMnemonic(mnemonic), passphrase);
}

/** Derives the key of one account from a seed. */
export function deriveFromSeed(seed: Uint8Array, account: number): DerivedKey {
  if (!Number.isSafeInteger(account) || account < 0 || account >= 0x80000000) {
    throw new Error(`account must be an integer from 0 to 2147483647, got ${account}`);
  }
  const path = nip06Path(account);
  const key = HDKey.fromMasterSeed(seed).derive(path);
  if (!key.privateKey) throw new Error(`no private key at ${path}`);
  return { account, path, secretKey: key.privateKey, publicKey: getPublicKey(key.privateKey) };
}

/**
 * Derives many accounts from one seed, reusing the intermediate `m/44'/1237'` node.
 * The fast path for hosting many agents.
 */
export function deriveMany(seed: Uint8Array, accounts: readonly number[]): DerivedKey[] {
  // Each account costs three secp256k1 base-point multiplications inside BIP-32; a wider
  // precomputed window (noble's documented warm-up, ~60 ms once) makes each about a third cheaper.
  if (accounts.length > 16) warmUp();
  const base = HDKey.fromMasterSeed(seed).derive("m/44'/1237'");
  return accounts.map((account) => {
    const key = base.deriveChild(account + 0x80000000).deriveChild(0).deriveChild(0);
    if (!key.privateKey || !key.publicKey) throw new Error(`no private key at ${nip06Path(account)}`);
    // BIP-32 already computed the compressed public key; its x coordinate is the Nostr key.
    return { account, path: nip06Path(account), secretKey: key.privateKey, publicKey: bytesToHex(key.publicKey.subarray(1)) };
  });
}
