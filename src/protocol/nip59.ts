/**
 * NIP-59 gift wrap: rumor (unsigned) → seal (kind 13, signed by the author, NIP-44 to the recipient)
 * → wrap (kind 1059, signed by a one-time key, `p`-tagged to the recipient).
 * Pure functions: the one-time key, time and the timestamp jitter come in as parameters. Key holders
 * are structural (`SealSigner`, `WrapOpener`) so a Signer fits without this layer importing it.
 */
import { finalizeEvent, verifyEvent } from './crypto.js';
import { getEventHash, signedEventBytes, type EventTemplate, type NostrEvent, type UnsignedEvent } from './event.js';
import { EventSchema, UnsignedEventSchema } from './schema.js';
import { Kind } from './kinds.js';
import * as nip44 from './nip44.js';

/** The canonical time lives in the rumor; seals and wraps are backdated up to this much (seconds). */
export const MAX_BACKDATE_SECONDS = 2 * 24 * 60 * 60;

/** An unsigned event with its id: what a seal carries. */
export type Rumor = UnsignedEvent;

/** What sealing needs from the author's key holder. */
export interface SealSigner {
  getPublicKey(): string;
  signEvent(template: EventTemplate): NostrEvent;
  nip44: { encrypt(peerPublicKey: string, plaintext: string): string };
}

/** What opening a wrap needs from the recipient's key holder. */
export interface WrapOpener {
  getPublicKey(): string;
  nip44: { decrypt(peerPublicKey: string, payload: string): string };
}

/** A `created_at` up to two days in the past: `random()` in [0, 1) picks how far. */
export function backdate(now: number, random: () => number): number {
  return now - Math.floor(random() * MAX_BACKDATE_SECONDS);
}

/** Makes a rumor (computes its id; never signs it). */
export function createRumor(template: EventTemplate, authorPubkey: string): Rumor {
  const base = { kind: template.kind, created_at: template.created_at, tags: template.tags, content: template.content, pubkey: authorPubkey };
  return { ...base, id: getEventHash(base) };
}

/** Seals a rumor for one recipient, signed by the author. */
export function createSeal(rumor: Rumor, author: SealSigner, recipientPubkey: string, createdAt: number): NostrEvent {
  if (rumor.pubkey !== author.getPublicKey()) throw new Error('rumor author differs from the sealing key');
  const content = author.nip44.encrypt(recipientPubkey, JSON.stringify(rumor));
  return author.signEvent({ kind: Kind.Seal, created_at: createdAt, tags: [], content });
}

/** Wraps a seal with a one-time key (never reuse `wrapSecretKey`). `extraTags` e.g. NIP-40 expiration. */
export function createWrap(
  seal: NostrEvent,
  recipientPubkey: string,
  wrapSecretKey: Uint8Array,
  createdAt: number,
  extraTags: string[][] = [],
): NostrEvent {
  const content = nip44.encrypt(JSON.stringify(seal), nip44.getConversationKey(wrapSecretKey, recipientPubkey));
  return finalizeEvent({ kind: Kind.GiftWrap, created_at: createdAt, tags: [['p', recipientPubkey], ...extraTags], content }, wrapSecretKey);
}

/**
 * The exact sizes a rumor whose JSON is `rumorBytes` long takes once sealed and wrapped, for a seal
 * and wrap dated at or before `createdAt` (backdating never adds a digit): `seal` is the seal's JSON
 * (the wrap's NIP-44 plaintext), `wrap` the wrap's JSON (what relays store and bound). Throws a plain
 * error when a layer's plaintext passes NIP-44's 65,535 bytes.
 */
export function giftWrapBytes(rumorBytes: number, createdAt: number, extraTags: string[][] = []): { seal: number; wrap: number } {
  const seal = signedEventBytes({ kind: Kind.Seal, created_at: createdAt, tags: [], content: '' }) + nip44.payloadLength(rumorBytes);
  const wrap = signedEventBytes({ kind: Kind.GiftWrap, created_at: createdAt, tags: [['p', '0'.repeat(64)], ...extraTags], content: '' }) + nip44.payloadLength(seal);
  return { seal, wrap };
}

/**
 * The largest rumor JSON (bytes) that seals and wraps within NIP-44's limits with a wrap JSON of at
 * most `maxWrapBytes`; 0 when none does. NIP-44 alone allows a rumor of 40,960 bytes: the seal's
 * JSON (the wrap's plaintext) is the rumor's padded ciphertext in base64 plus the seal's fields, and
 * the next padding step (49,152) makes it pass 65,535.
 */
export function maxRumorBytes(createdAt: number, maxWrapBytes = Number.POSITIVE_INFINITY, extraTags: string[][] = []): number {
  const fits = (n: number): boolean => {
    try {
      return giftWrapBytes(n, createdAt, extraTags).wrap <= maxWrapBytes;
    } catch {
      return false;
    }
  };
  if (!fits(1)) return 0;
  let lo = 1;
  let hi = nip44.MAX_PLAINTEXT_BYTES;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Why a wrap was refused (the receiver counts these). */
export type UnwrapFailure = 'wrong-recipient' | 'decrypt-failed' | 'malformed-seal' | 'bad-seal-signature' | 'seal-rumor-mismatch' | 'malformed-rumor';

/** The result of opening a wrap: the authenticated rumor, or why not. */
export type UnwrapResult = { ok: true; seal: NostrEvent; rumor: Rumor } | { ok: false; reason: UnwrapFailure; detail: string };



function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Opens a gift wrap addressed to `recipient` and authenticates its author. The seal's signature is
 * what proves who wrote the message, and the rumor is unsigned, so a rumor whose pubkey differs from
 * the seal's is a forgery attempt (anyone can seal a rumor claiming to be someone else).
 */
export function unwrapGift(wrap: NostrEvent, recipient: WrapOpener): UnwrapResult {
  const me = recipient.getPublicKey();
  if (wrap.kind !== Kind.GiftWrap) return { ok: false, reason: 'malformed-seal', detail: `kind ${wrap.kind} is not a gift wrap` };
  if (!wrap.tags.some((t) => t[0] === 'p' && t[1] === me)) return { ok: false, reason: 'wrong-recipient', detail: 'wrap is not p-tagged to the recipient' };
  let sealText: string;
  try {
    sealText = recipient.nip44.decrypt(wrap.pubkey, wrap.content);
  } catch (cause) {
    return { ok: false, reason: 'decrypt-failed', detail: `wrap: ${(cause as Error).message}` };
  }
  const seal = EventSchema.safeParse(parseJson(sealText));
  if (!seal.success) return { ok: false, reason: 'malformed-seal', detail: 'seal is not a valid event' };
  if (seal.data.kind !== Kind.Seal) return { ok: false, reason: 'malformed-seal', detail: `seal kind ${seal.data.kind}, expected 13` };
  if (!verifyEvent(seal.data)) return { ok: false, reason: 'bad-seal-signature', detail: 'seal id or signature does not verify' };
  let rumorText: string;
  try {
    rumorText = recipient.nip44.decrypt(seal.data.pubkey, seal.data.content);
  } catch (cause) {
    return { ok: false, reason: 'decrypt-failed', detail: `seal: ${(cause as Error).message}` };
  }
  const parsed = UnsignedEventSchema.safeParse(parseJson(rumorText));
  if (!parsed.success) return { ok: false, reason: 'malformed-rumor', detail: 'rumor is not a valid unsigned event' };
  const rumor: Rumor = parsed.data;
  if (rumor.pubkey !== seal.data.pubkey) return { ok: false, reason: 'seal-rumor-mismatch', detail: 'rumor pubkey differs from seal pubkey' };
  if (getEventHash(rumor) !== rumor.id) return { ok: false, reason: 'malformed-rumor', detail: 'rumor id does not match its content' };
  return { ok: true, seal: seal.data, rumor };
}
