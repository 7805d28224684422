/**
 * Redaction: secrets are replaced before anything about a tick leaves the machine, in public and
 * in private mode alike (an encrypted trajectory is still a copy of the secret on every relay).
 * Each secret becomes `<redacted:sha256:XXXXXXXXXXXXXXXX>`: the first 16 hex digits of its SHA-256,
 * enough to tell that two redactions hid the same secret, too short to be mistaken for a key.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { getPublicKey } from '../protocol/crypto.js';
import type { JsonValue } from './canonical.js';

/** What else a redaction pass must hide, beyond the built-in patterns. */
export interface RedactOptions {
  /** Exact strings that must never leave (a configured LLM API key, a control token …). */
  knownSecrets?: readonly string[];
  /** Any 64-hex string whose public key is one of these is a private key: hidden wherever it appears. */
  protectedPubkeys?: readonly string[];
  /**
   * 64-hex strings known to be public (ids of events the daemon signed or checked, verified public
   * keys): not tested against `protectedPubkeys`, which costs a public-key derivation per string.
   * A private key can only sit there if whoever chose the value already held it.
   */
  publicHex?: readonly string[];
}

/** Per-pass memo of the own-key test (a tick's content repeats the same ids and keys in many strings). */
type OwnKeyMemo = Map<string, boolean>;

/** The marker that replaces a secret. */
export function redactionMarker(secret: string): string {
  return `<redacted:sha256:${bytesToHex(sha256(new TextEncoder().encode(secret))).slice(0, 16)}>`;
}

const HEX = '[0-9a-fA-F]';
const HEX64 = `(?<!${HEX})${HEX}{64}(?!${HEX})`;
/** Words that make a nearby 64-hex string a private key; `pubkey` / `public key` do not. */
const SECRET_WORD = '(?:(?<![a-z])(?:sk|nsec|seed)|(?:private|priv|secret|sec|signing|conversation)[\\s_-]?key|secret|(?<!pub|public[\\s_-]?)key)';

/** A pattern and which of its groups is the secret (0 = the whole match). */
interface Rule {
  re: RegExp;
  group: number;
  accept?: (secret: string) => boolean;
}

const RULES: Rule[] = [
  // PEM blocks, terminated or cut off at the end of the text.
  { re: /-----BEGIN [A-Z0-9 ]{1,64}-----[\s\S]*?(?:-----END [A-Z0-9 ]{1,64}-----|$)/g, group: 0 },
  // bech32 private keys, valid or not: an nsec-looking string is treated as one.
  { re: /(?<![a-z0-9])(?:nsec|ncryptsec)1[a-z0-9]{20,}/gi, group: 0 },
  // OpenAI/Anthropic-style API keys.
  { re: /(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{16,}/g, group: 0 },
  // GitHub, Slack, AWS access key ids, JWTs.
  { re: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g, group: 0 },
  { re: /(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,}/g, group: 0 },
  { re: /(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])/g, group: 0 },
  { re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, group: 0 },
  // Bearer tokens; a plain English word after "Bearer" is not a token.
  {
    re: /\bBearer\s+(?!<redacted:)([A-Za-z0-9._~+/=-]{8,})/gi,
    group: 1,
    accept: (token) => token.length >= 20 || /\d/.test(token),
  },
  // Authorization headers of any scheme (Basic, Token, Digest …).
  { re: /\bAuthorization["']?\s*[:=]\s*["']?(?:[A-Za-z]+\s+)?(?!<redacted:)([^\s"',;]{6,})/gi, group: 1 },
  // Assignments such as `api_key=…`, `password: …`, `"access_token": "…"`.
  {
    re: /\b(?:api[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|client[_-]?secret|password|passwd)["']?\s*[:=]\s*["']?(?!<redacted:)([^\s"',;&]{6,})/gi,
    group: 1,
  },
  // 64-hex private keys next to a word saying so, before or after it.
  { re: new RegExp(`${SECRET_WORD}[^\\n]{0,32}?(${HEX64})`, 'gi'), group: 1 },
  { re: new RegExp(`(${HEX64})[^\\n]{0,24}?(?:secret|private|priv[\\s_-]?key|seckey|signing key)`, 'gi'), group: 1 },
];

/** Object member names whose string values are secrets whatever they look like. */
const SECRET_NAME = /secret|private[_-]?key|privkey|seckey|password|passwd|api[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|^token$|mnemonic|seed[_-]?phrase|^nsec$|credential/i;
const PUBLIC_NAME = /public|pub[_-]?key/i;
const MARKER = /^<redacted:sha256:[0-9a-f]{16}>$/;

/** True when an object member of this name holds a secret (`apiKey`, `password`, `mnemonic` …). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !PUBLIC_NAME.test(name);
}

/** Hides every secret in a text. Returns the new text and how many secrets were hidden. */
export function redactText(text: string, options: RedactOptions = {}, memo: OwnKeyMemo = new Map()): { text: string; count: number } {
  let count = 0;
  const hide = (secret: string): string => {
    count++;
    return redactionMarker(secret);
  };
  let out = text;
  for (const secret of options.knownSecrets ?? []) {
    if (secret.length >= 4 && out.includes(secret)) out = out.split(secret).join(hide(secret));
  }
  for (const rule of RULES) {
    out = out.replace(rule.re, (match: string, ...groups: unknown[]) => {
      const secret = rule.group === 0 ? match : (groups[rule.group - 1] as string | undefined);
      if (!secret || (rule.accept && !rule.accept(secret))) return match;
      const at = match.lastIndexOf(secret);
      return match.slice(0, at) + hide(secret) + match.slice(at + secret.length);
    });
  }
  out = redactOwnKeys(out, options, memo, hide);
  out = redactMnemonics(out, hide);
  return { text: out, count };
}

/** Hides every secret in a JSON value: strings by pattern, and whole values under secret names. */
export function redactValue(value: JsonValue, options: RedactOptions = {}): { value: JsonValue; count: number } {
  let count = 0;
  const memo: OwnKeyMemo = new Map();
  const text = (node: string, name: string | undefined): string => {
    // The member name is context for the patterns (`{ "key": "<64 hex>" }`, `{ "Authorization": "Basic …" }`).
    if (name !== undefined) {
      const prefix = `${name}: `;
      const result = redactText(prefix + node, options, memo);
      if (result.text.startsWith(prefix)) {
        count += result.count;
        return result.text.slice(prefix.length);
      }
    }
    const result = redactText(node, options, memo);
    count += result.count;
    return result.text;
  };
  const walk = (node: JsonValue, name: string | undefined, secretContext: boolean): JsonValue => {
    if (typeof node === 'string') {
      if (secretContext && node.length > 0 && !MARKER.test(node)) {
        count++;
        return redactionMarker(node);
      }
      return text(node, name);
    }
    if (node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) return node.map((item) => walk(item, name, secretContext));
    const out: { [key: string]: JsonValue } = {};
    for (const [key, member] of Object.entries(node)) out[key] = walk(member, key, secretContext || isSecretName(key));
    return out;
  };
  return { value: walk(value, undefined, false), count };
}

function redactOwnKeys(text: string, options: RedactOptions, memo: OwnKeyMemo, hide: (s: string) => string): string {
  const pubkeys = options.protectedPubkeys;
  if (!pubkeys || pubkeys.length === 0) return text;
  const guarded = new Set(pubkeys.map((p) => p.toLowerCase()));
  // A guarded key itself is public (a key is not its own secret); so is anything in publicHex.
  if (memo.size === 0) for (const hex of [...guarded, ...(options.publicHex ?? [])]) memo.set(hex.toLowerCase(), false);
  return text.replace(new RegExp(HEX64, 'g'), (hex) => {
    const lower = hex.toLowerCase();
    let secret = memo.get(lower);
    if (secret === undefined) {
      try {
        secret = guarded.has(getPublicKey(hexToBytes(lower)));
      } catch {
        secret = false; // not a valid scalar (zero or ≥ the curve order): cannot be a key
      }
      memo.set(lower, secret);
    }
    return secret ? hide(hex) : hex;
  });
}

const WORDS = new Set(wordlist);
const MIN_MNEMONIC_WORDS = 12;
/** What may sit between two words of a pasted mnemonic: spaces, commas, list numbers. */
const WORD_GAP = /^[\s,;.:"'()\-\d]*$/;

/** Hides runs of 12 or more BIP-39 words in a row: a mnemonic, checksum or not. */
function redactMnemonics(text: string, hide: (s: string) => string): string {
  const words = [...text.matchAll(/[A-Za-z]+/g)].map((m) => ({ word: m[0].toLowerCase(), start: m.index, end: m.index + m[0].length }));
  const spans: Array<[number, number]> = [];
  let runStart = -1;
  for (let i = 0; i <= words.length; i++) {
    const w = words[i];
    const prev = words[i - 1];
    const continues = w !== undefined && WORDS.has(w.word) && runStart >= 0 && prev !== undefined && WORD_GAP.test(text.slice(prev.end, w.start));
    if (continues) continue;
    if (runStart >= 0 && i - runStart >= MIN_MNEMONIC_WORDS) spans.push([words[runStart]!.start, words[i - 1]!.end]);
    runStart = w !== undefined && WORDS.has(w.word) ? i : -1;
  }
  let out = text;
  for (const [start, end] of spans.reverse()) out = out.slice(0, start) + hide(out.slice(start, end)) + out.slice(end);
  return out;
}
