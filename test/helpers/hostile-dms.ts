/**
 * Hostile direct messages for end-to-end tests: what a stranger who knows an agent's npub can send
 * (oversized NIP-17 and NIP-04, undecryptable wraps, forged seals and rumors, bad signatures,
 * malformed JSON and rumors). Each is a real signed event (or one signed wrongly on purpose),
 * built with the protocol layer's pure functions and a fresh key per stranger.
 */
import { finalizeEvent } from '../../src/protocol/crypto.js';
import { getEventHash, type NostrEvent } from '../../src/protocol/event.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import * as nip44 from '../../src/protocol/nip44.js';
import { createChatRumor } from '../../src/protocol/nip17.js';
import { createSeal, createWrap, type Rumor } from '../../src/protocol/nip59.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';

/** A stranger's key: `n` (1–200) spelled into 32 bytes, distinct from every fixture key. */
export function strangerKey(n: number): SecretKeySigner {
  return new SecretKeySigner(hexToBytes(`5e${n.toString(16).padStart(2, '0')}`.repeat(16)));
}

/** What kind of hostile message, and whether the agent should answer it (with an echo or a notice). */
export interface HostileDm {
  what: string;
  from: SecretKeySigner;
  event: NostrEvent;
  /** The agent answers: an echo in parts, or the short "too long" notice. */
  answered: boolean;
}

const now = (): number => Math.floor(Date.now() / 1000);

/** Wraps `sealText` (any string) for `agent` with a one-time key. */
function wrapText(sealText: string, agent: string, oneTime: Uint8Array): NostrEvent {
  const content = nip44.encrypt(sealText, nip44.getConversationKey(oneTime, agent));
  return finalizeEvent({ kind: 1059, created_at: now(), tags: [['p', agent]], content }, oneTime);
}

/** Seals `rumorText` (any string) as `author` and wraps it. */
function sealText(author: SecretKeySigner, rumorText: string, agent: string, oneTime: Uint8Array): NostrEvent {
  const seal = author.signEvent({ kind: 13, created_at: now(), tags: [], content: author.nip44.encrypt(agent, rumorText) });
  return wrapText(JSON.stringify(seal), agent, oneTime);
}

function wrapRumor(rumor: Rumor, author: SecretKeySigner, agent: string, oneTime: Uint8Array): NostrEvent {
  return createWrap(createSeal(rumor, author, agent, now()), agent, oneTime, now());
}

/** The hostile kinds, in turn: `i` picks one. */
const MAKERS: Array<(from: SecretKeySigner, agent: string, oneTime: Uint8Array, i: number) => Omit<HostileDm, 'from'>> = [
  (from, agent, key) => ({ what: 'oversized NIP-17 (40 KB)', answered: true, event: wrapRumor(createChatRumor(from.getPublicKey(), { recipients: [agent], content: 'big '.repeat(10_000), createdAt: now() }), from, agent, key) }),
  (from, agent) => ({ what: 'oversized NIP-04 (60 KB)', answered: true, event: from.signEvent({ kind: 4, created_at: now(), tags: [['p', agent]], content: from.nip04.encrypt(agent, 'huge '.repeat(12_000)) }) }),
  (from, agent, key) => ({ what: 'a 40 KB subject (no room to answer in kind)', answered: true, event: wrapRumor(createChatRumor(from.getPublicKey(), { recipients: [agent], content: 'hi', subject: 's'.repeat(40_000), createdAt: now() }), from, agent, key) }),
  (from, agent) => ({ what: 'NIP-04 past the 200,000-character payload cap', answered: true, event: from.signEvent({ kind: 4, created_at: now(), tags: [['p', agent]], content: from.nip04.encrypt(agent, 'z'.repeat(160_000)) }) }),
  (_from, agent, key) => ({ what: 'undecryptable wrap', answered: false, event: finalizeEvent({ kind: 1059, created_at: now(), tags: [['p', agent]], content: 'AQ'.repeat(200) }, key) }),
  (from, agent) => ({ what: 'undecryptable NIP-04', answered: false, event: from.signEvent({ kind: 4, created_at: now(), tags: [['p', agent]], content: 'bm90IGJhc2U2NA==?iv=AAAAAAAAAAAAAAAAAAAAAA==' }) }),
  (from, agent, key, i) => {
    // Seal by `from`, rumor claiming another author: a forgery.
    const victim = strangerKey(200 - (i % 50)).getPublicKey();
    const rumor = createChatRumor(victim, { recipients: [agent], content: 'i am someone else', createdAt: now() });
    return { what: 'forged rumor author', answered: false, event: sealText(from, JSON.stringify(rumor), agent, key) };
  },
  (from, agent, key) => {
    const seal = { ...createSeal(createChatRumor(from.getPublicKey(), { recipients: [agent], content: 'x', createdAt: now() }), from, agent, now()), sig: '0'.repeat(128) };
    return { what: 'seal with a bad signature', answered: false, event: wrapText(JSON.stringify(seal), agent, key) };
  },
  (from, agent, key) => {
    const event = wrapRumor(createChatRumor(from.getPublicKey(), { recipients: [agent], content: 'x', createdAt: now() }), from, agent, key);
    return { what: 'wrap with a bad signature', answered: false, event: { ...event, sig: event.sig.replace(/^./, (c) => (c === '0' ? '1' : '0')) } };
  },
  (_from, agent, key) => ({ what: 'seal that is not JSON', answered: false, event: wrapText('{"kind":13, oops', agent, key) }),
  (from, agent, key) => ({ what: 'rumor that is not JSON', answered: false, event: sealText(from, 'not json at all', agent, key) }),
  (from, agent, key) => {
    const rumor = { ...createChatRumor(from.getPublicKey(), { recipients: [agent], content: 'tampered', createdAt: now() }), content: 'changed after hashing' };
    return { what: 'rumor whose id does not match', answered: false, event: sealText(from, JSON.stringify(rumor), agent, key) };
  },
  (from, agent, key) => {
    const base = { kind: 1, created_at: now(), tags: [['p', agent]], content: 'a kind 1 inside a wrap', pubkey: from.getPublicKey() };
    return { what: 'rumor of an unsupported kind', answered: false, event: sealText(from, JSON.stringify({ ...base, id: getEventHash(base) }), agent, key) };
  },
  (from, agent, key) => ({ what: 'rumor missing fields', answered: false, event: sealText(from, JSON.stringify({ kind: 14, content: 'no id, no pubkey' }), agent, key) }),
];

/** `count` hostile DMs to `agent`, one per stranger (strangers 1..count), cycling through the kinds. */
export function hostileDms(agent: string, count: number): HostileDm[] {
  return Array.from({ length: count }, (_, i) => {
    const from = strangerKey(i + 1);
    const oneTime = hexToBytes(`0e${(i + 1).toString(16).padStart(2, '0')}`.repeat(16));
    return { from, ...MAKERS[i % MAKERS.length]!(from, agent, oneTime, i) };
  });
}
