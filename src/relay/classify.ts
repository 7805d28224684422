/**
 * Pure classification of one inbound event into InboundMessages: NIP-17 gift wraps (kind 14 chat and
 * kind 15 file rumors), NIP-04 kind 4 DMs, and kind 1 mentions (a `p` tag or a NIP-27 reference).
 */
import type { NostrEvent } from '../protocol/event.js';
import { tagValue } from '../protocol/event.js';
import { Kind } from '../protocol/kinds.js';
import { MAX_NIP04_PAYLOAD_CHARS } from '../protocol/nip04.js';
import { parseThread } from '../protocol/nip10.js';
import { parseChatRumor, type ChatMessage } from '../protocol/nip17.js';
import { profileReferences } from '../protocol/nip27.js';
import { unwrapGift, type Rumor } from '../protocol/nip59.js';
import type { Signer } from '../signer/types.js';
import type { FileAttachment, InboundMessage, RejectReason } from './types.js';

/** The id of the message an event (or rumor) answers, by its `e` tags (NIP-10 rules, which cover NIP-17's single `e`). */
export function inReplyToOf(event: Pick<NostrEvent, 'tags'>): string | undefined {
  return parseThread(event).reply?.id;
}

/** Either the messages to deliver or why the event was dropped. */
export type Classified = { messages: InboundMessage[] } | { reject: RejectReason; detail: string };

/** Opens a gift wrap for `agent` and authenticates the rumor's author. */
export function classifyGiftWrap(wrap: NostrEvent, agent: Signer, relay: string): Classified {
  const opened = unwrapGift(wrap, agent);
  if (!opened.ok) return { reject: opened.reason, detail: opened.detail };
  const { rumor } = opened;
  const me = agent.getPublicKey();
  if (rumor.kind !== Kind.ChatMessage && rumor.kind !== Kind.FileMessage) return { reject: 'unsupported-rumor-kind', detail: `rumor kind ${rumor.kind}` };
  if (rumor.pubkey === me) return { reject: 'own-message', detail: 'copy of a message the agent sent' };
  const chat = parseChatRumor(rumor);
  if (!chat.participants.includes(me)) return { reject: 'wrong-recipient', detail: 'rumor does not p-tag the agent' };
  const message: InboundMessage = {
    kind: 'dm',
    protocol: 'nip17',
    agentPubkey: me,
    sender: rumor.pubkey,
    text: chat.text,
    eventId: wrap.id,
    rumorId: rumor.id,
    replyTo: { parentId: rumor.id, participants: chat.participants.filter((p) => p !== me), relay },
    createdAt: rumor.created_at,
    relay,
  };
  if (chat.subject !== undefined) message.subject = chat.subject;
  const parent = inReplyToOf(rumor);
  if (parent !== undefined) message.inReplyTo = parent;
  if (chat.kind === Kind.FileMessage) message.files = [fileOf(rumor, chat)];
  return { messages: [message] };
}

function fileOf(rumor: Rumor, chat: ChatMessage): FileAttachment {
  const file: FileAttachment = { url: chat.text };
  const set = <K extends keyof FileAttachment>(key: K, tag: string, map: (v: string) => FileAttachment[K] = (v) => v as FileAttachment[K]): void => {
    const value = tagValue(rumor, tag);
    if (value !== undefined) file[key] = map(value);
  };
  set('mimeType', 'file-type');
  set('encryptionAlgorithm', 'encryption-algorithm');
  set('decryptionKey', 'decryption-key');
  set('decryptionNonce', 'decryption-nonce');
  set('sha256', 'x');
  set('size', 'size', (v) => (Number.isSafeInteger(Number(v)) ? Number(v) : undefined));
  set('dim', 'dim');
  return file;
}

/** Decrypts a NIP-04 kind 4 addressed to `agent`. */
export function classifyLegacyDm(event: NostrEvent, agent: Signer, relay: string): Classified {
  const me = agent.getPublicKey();
  if (event.pubkey === me) return { reject: 'own-message', detail: 'kind 4 sent by the agent' };
  const base = { kind: 'dm' as const, protocol: 'nip04' as const, agentPubkey: me, sender: event.pubkey, eventId: event.id, replyTo: { parentId: event.id, participants: [event.pubkey], relay }, createdAt: event.created_at, relay };
  // Too large to read, but signed: the sender is known and is told, rather than met with silence.
  if (event.content.length > MAX_NIP04_PAYLOAD_CHARS) return { messages: [{ ...base, text: '', tooLarge: { chars: event.content.length, limit: MAX_NIP04_PAYLOAD_CHARS } }] };
  let text: string;
  try {
    text = agent.nip04.decrypt(event.pubkey, event.content);
  } catch (cause) {
    return { reject: 'decrypt-failed', detail: `nip04: ${(cause as Error).message}` };
  }
  const parent = inReplyToOf(event);
  return { messages: [{ ...base, text, ...(parent !== undefined ? { inReplyTo: parent } : {}) }] };
}

/** A kind 1 that tags or references hosted agents: one message per agent addressed (not its own notes). */
export function classifyMention(event: NostrEvent, hosted: ReadonlySet<string>, relay: string): Classified {
  const thread = parseThread(event);
  const addressed = new Set([...thread.profiles, ...profileReferences(event.content)].filter((p) => hosted.has(p) && p !== event.pubkey));
  if (addressed.size === 0) {
    return hosted.has(event.pubkey) ? { reject: 'own-message', detail: 'note by a hosted agent' } : { reject: 'not-addressed', detail: 'no hosted agent tagged or referenced' };
  }
  const parentEvent = { id: event.id, pubkey: event.pubkey, kind: event.kind, tags: event.tags };
  const rootId = thread.root && thread.root.id !== event.id ? thread.root.id : undefined;
  const inReplyTo = thread.reply?.id;
  const messages = [...addressed].map((agent): InboundMessage => {
    const participants = [...new Set([event.pubkey, ...thread.profiles])].filter((p) => p !== agent);
    const replyTo = { parentId: event.id, participants, relay, parentEvent, ...(rootId ? { rootId } : {}) };
    return { kind: 'mention', protocol: 'note', agentPubkey: agent, sender: event.pubkey, text: event.content, eventId: event.id, ...(inReplyTo ? { inReplyTo } : {}), replyTo, createdAt: event.created_at, relay };
  });
  return { messages };
}
