/**
 * NIP-06: keys from a BIP-39 mnemonic along `m/44'/1237'/<account>'/0/0`.
 * The owner is account 0; agent n is account n+1. The seed (PBKDF2, the slow part) is computed once
 * by the caller and reused, so deriving a thousand agents costs a thousand cheap BIP-32 steps.
 */
import { createHmac, pbkdf2Sync } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { generateMnemonic as bip39Generate, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { compressedPublicKey } from './crypto.js';
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
/** Precomputes noble's base-point table (window 8) for the pure-JS multiplications (no wasm engine). */
function warmUp(): void {
  if (warmed) return;
  secp256k1.Point.BASE.precompute(8, false);
  warmed = true;
}

/** A new BIP-39 mnemonic of 12 or 24 words. */
export function generateMnemonic(words: 12 | 24 = 12): string {
  return bip39Generate(wordlist, words === 24 ? 256 : 128);
}

/**
 * The BIP-39 seed of a mnemonic (+ optional passphrase). Throws on an invalid mnemonic.
 * PBKDF2-HMAC-SHA512, 2048 rounds, over the NFKD forms (BIP-39), in Node's native crypto: ~1 ms where
 * the pure-JS one took ~35 ms of every daemon's and command's start (equal to @scure/bip39's, tested).
 */
export function mnemonicToSeed(mnemonic: string, passphrase = ''): Uint8Array {
  const problem = mnemonicProblem(mnemonic);
  if (problem) throw new Error(`invalid mnemonic: ${problem}`);
  const password = Buffer.from(normalizeMnemonic(mnemonic).normalize('NFKD'), 'utf8');
  const salt = Buffer.from(`mnemonic${passphrase}`.normalize('NFKD'), 'utf8');
  return new Uint8Array(pbkdf2Sync(password, salt, 2048, 64, 'sha512'));
}

/** Derives the key of one account from a seed (BIP-32 steps as `Nip06Deriver`'s, equal to @scure/bip32's: tested). */
export function deriveFromSeed(seed: Uint8Array, account: number): DerivedKey {
  if (!Number.isSafeInteger(account) || account < 0 || account >= 0x80000000) {
    throw new Error(`account must be an integer from 0 to 2147483647, got ${account}`);
  }
  return new Nip06Deriver(seed).derive(account);
}

/** secp256k1's group order. */
const N = secp256k1.Point.CURVE().n;
const HARDENED = 0x80000000;

function toBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

function toBytes32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}

/** One private BIP-32 node: the key and the chain code (what deriving a child needs). */
interface Node {
  key: Uint8Array;
  chain: Uint8Array;
}

/** BIP-32's master node of a seed (16 to 64 bytes): HMAC-SHA512 keyed "Bitcoin seed". */
function masterNode(seed: Uint8Array): Node {
  if (seed.length < 16 || seed.length > 64) throw new Error(`BIP-32: a seed has 16 to 64 bytes, got ${seed.length}`);
  const I = createHmac('sha512', 'Bitcoin seed').update(seed).digest();
  const key = toBigInt(I.subarray(0, 32));
  if (key === 0n || key >= N) throw new Error('BIP-32: the seed gives an invalid master key');
  return { key: new Uint8Array(I.subarray(0, 32)), chain: new Uint8Array(I.subarray(32)) };
}

/**
 * BIP-32 CKDpriv: the child `index` of a node. A hardened child hashes the parent's private key, a
 * normal one its compressed public key (the one base-point multiplication per level, done by the
 * wasm engine once loadFastCrypto() has loaded it).
 */
function child(parent: Node, index: number): Node {
  const data = new Uint8Array(37);
  if (index >= HARDENED) data.set(parent.key, 1);
  else data.set(compressedPublicKey(parent.key), 0);
  new DataView(data.buffer).setUint32(33, index >>> 0, false);
  const I = createHmac('sha512', parent.chain).update(data).digest(); // Node's native HMAC: ~5x pure JS here
  const tweak = toBigInt(I.subarray(0, 32));
  const key = (tweak + toBigInt(parent.key)) % N;
  // BIP-32 says to skip such an index; the odds are below 2^-127, and scure throws too.
  if (tweak >= N || key === 0n) throw new Error(`BIP-32: index ${index} gives an invalid key`);
  return { key: toBytes32(key), chain: new Uint8Array(I.subarray(32)) };
}

/**
 * NIP-06 keys of many accounts from one seed: the `m/44'/1237'` node is derived once, and each account
 * then costs three base-point multiplications (the public keys of a', a'/0 and a'/0/0), in wasm
 * (libsecp256k1) when it is loaded. The keys equal @scure/bip32's (the tests compare them).
 */
export class Nip06Deriver {
  readonly #base: Node;

  constructor(seed: Uint8Array) {
    // BIP-32's master node, then two hardened steps: HMACs only. (@scure/bip32's HDKey computes every
    // node's public key on the way, three pure-JS base-point multiplications, ~27 ms of each daemon start.)
    this.#base = child(child(masterNode(seed), 44 + HARDENED), 1237 + HARDENED);
  }

  /** The key of one account (0 = owner, n + 1 = agent n). */
  derive(account: number): DerivedKey {
    if (!Number.isSafeInteger(account) || account < 0 || account >= HARDENED) {
      throw new Error(`account must be an integer from 0 to 2147483647, got ${account}`);
    }
    const leaf = child(child(child(this.#base, account + HARDENED), 0), 0);
    return { account, path: nip06Path(account), secretKey: leaf.key, publicKey: bytesToHex(compressedPublicKey(leaf.key).subarray(1)) };
  }
}

/**
 * Derives many accounts from one seed, reusing the intermediate `m/44'/1237'` node.
 * The fast path for hosting many agents.
 */
export function deriveMany(seed: Uint8Array, accounts: readonly number[]): DerivedKey[] {
  // Without the wasm engine each multiplication is noble's: a wider precomputed window (noble's
  // documented warm-up, ~60 ms once) makes each about a third cheaper.
  if (accounts.length > 16) warmUp();
  const deriver = new Nip06Deriver(seed);
  return accounts.map((account) => deriver.derive(account));
}
