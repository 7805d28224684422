/**
 * NIP-17 private direct messages: kind 14 chat rumors (and kind 15 file rumors), gift-wrapped to
 * every participant and to the sender, plus the kind 10050 DM relay list.
 */
import type { EventTemplate, NostrEvent } from './event.js';
import { tagValue } from './event.js';
import { Kind } from './kinds.js';
import { backdate, createRumor, createSeal, createWrap, type Rumor, type SealSigner } from './nip59.js';
import { normalizeRelayUrl } from './relay-url.js';

/** What a chat message says and where it sits in a conversation. */
export interface ChatMessageInput {
  /** Everyone the message is for (not the sender). */
  recipients: string[];
  content: string;
  subject?: string;
  /** The parent kind 14 this replies to. */
  replyTo?: { id: string; relay?: string };
  createdAt: number;
}

/** Builds the unsigned kind 14 rumor of a chat message. */
export function createChatRumor(senderPubkey: string, input: ChatMessageInput): Rumor {
  const tags: string[][] = input.recipients.map((p) => ['p', p]);
  if (input.replyTo) tags.push(['e', input.replyTo.id, input.replyTo.relay ?? '', 'reply']);
  if (input.subject !== undefined) tags.push(['subject', input.subject]);
  return createRumor({ kind: Kind.ChatMessage, created_at: input.createdAt, tags, content: input.content }, senderPubkey);
}

/** Time and randomness for wrapping: `now` (unix s), `random()` in [0,1), a fresh one-time key per wrap. */
export interface WrapEntropy {
  now: number;
  random: () => number;
  newWrapKey: () => Uint8Array;
}

/**
 * Seals and wraps a rumor once per recipient (in order) and, unless `includeSender` is false,
 * once more to the sender, so the sender's other clients see what was sent.
 */
export function wrapForRecipients(rumor: Rumor, sender: SealSigner, recipients: string[], entropy: WrapEntropy, includeSender = true): NostrEvent[] {
  const targets = [...new Set(recipients)];
  if (includeSender && !targets.includes(sender.getPublicKey())) targets.push(sender.getPublicKey());
  return targets.map((recipient) => {
    const seal = createSeal(rumor, sender, recipient, backdate(entropy.now, entropy.random));
    return createWrap(seal, recipient, entropy.newWrapKey(), backdate(entropy.now, entropy.random));
  });
}

/** A chat rumor read back: the parts a receiver acts on. */
export interface ChatMessage {
  kind: 14 | 15;
  text: string;
  subject?: string;
  /** The `e` tag: the parent message replied to. */
  parentId?: string;
  /** The room: the author and every `p`, deduplicated. */
  participants: string[];
}

/** Reads a kind 14/15 rumor; throws a plain error for any other kind. */
export function parseChatRumor(rumor: Rumor): ChatMessage {
  if (rumor.kind !== Kind.ChatMessage && rumor.kind !== Kind.FileMessage) throw new Error(`rumor kind ${rumor.kind} is not a chat message`);
  const ps = rumor.tags.filter((t) => t[0] === 'p' && t[1]).map((t) => t[1] as string);
  return {
    kind: rumor.kind as 14 | 15,
    text: rumor.content,
    subject: tagValue(rumor, 'subject'),
    parentId: tagValue(rumor, 'e'),
    participants: [...new Set([rumor.pubkey, ...ps])],
  };
}

/** The kind 10050 template listing where someone wants to receive DMs. */
export function createDmRelayList(relays: string[], createdAt: number): EventTemplate {
  return { kind: Kind.DmRelayList, created_at: createdAt, tags: relays.map((r) => ['relay', r]), content: '' };
}

/** The relays of a kind 10050 (invalid URLs skipped, normalized, deduplicated). */
export function parseDmRelayList(event: Pick<NostrEvent, 'kind' | 'tags'>): string[] {
  if (event.kind !== Kind.DmRelayList) throw new Error(`kind ${event.kind} is not a DM relay list`);
  const out = new Set<string>();
  for (const tag of event.tags) {
    if (tag[0] !== 'relay' || !tag[1]) continue;
    const url = normalizeRelayUrl(tag[1]);
    if (url) out.add(url);
  }
  return [...out];
}
