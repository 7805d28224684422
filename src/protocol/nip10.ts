/**
 * NIP-10 threads for kind 1: reading root/reply from marked `e` tags (or the deprecated positional
 * scheme) and writing the tags of a reply.
 */
import type { NostrEvent } from './event.js';

/** An `e` reference: id, relay hint and (current NIP-10) author pubkey. */
export interface EventPointer {
  id: string;
  relay?: string;
  pubkey?: string;
}

/** Where an event sits in a thread. */
export interface ThreadPosition {
  root?: EventPointer;
  reply?: EventPointer;
  mentions: EventPointer[];
  /** Every `p` tag value, deduplicated. */
  profiles: string[];
}

function pointer(tag: string[]): EventPointer {
  return { id: tag[1] as string, relay: tag[2] || undefined, pubkey: tag[4] || undefined };
}

/** Reads an event's thread position; marked tags win, positional tags are the fallback. */
export function parseThread(event: Pick<NostrEvent, 'tags'>): ThreadPosition {
  const eTags = event.tags.filter((t) => t[0] === 'e' && typeof t[1] === 'string' && /^[0-9a-f]{64}$/.test(t[1]));
  const profiles = [...new Set(event.tags.filter((t) => t[0] === 'p' && t[1]).map((t) => t[1] as string))];
  const marked = eTags.filter((t) => t[3] === 'root' || t[3] === 'reply' || t[3] === 'mention');
  if (marked.length > 0) {
    const rootTag = marked.find((t) => t[3] === 'root');
    const replyTag = marked.find((t) => t[3] === 'reply');
    const root = rootTag ? pointer(rootTag) : undefined;
    const mentions = eTags.filter((t) => t[3] === 'mention' || t[3] === undefined || t[3] === '').map(pointer);
    // A direct reply to the root carries only the root marker: the root is also the parent.
    return { root, reply: replyTag ? pointer(replyTag) : root, mentions, profiles };
  }
  if (eTags.length === 0) return { mentions: [], profiles };
  const first = eTags[0] as string[];
  const last = eTags[eTags.length - 1] as string[];
  return { root: pointer(first), reply: pointer(last), mentions: eTags.slice(1, -1).map(pointer), profiles };
}

/**
 * The `e` and `p` tags of a reply to `parent`: `root` (and `reply` when the parent is not the root)
 * markers, and `p` for the parent's author and every `p` of the parent except `self`.
 */
export function createReplyTags(parent: Pick<NostrEvent, 'id' | 'pubkey' | 'tags'>, self: string, relayHint = ''): string[][] {
  const thread = parseThread(parent);
  const tags: string[][] = [];
  if (thread.root && thread.root.id !== parent.id) {
    tags.push(['e', thread.root.id, thread.root.relay ?? '', 'root', ...(thread.root.pubkey ? [thread.root.pubkey] : [])]);
    tags.push(['e', parent.id, relayHint, 'reply', parent.pubkey]);
  } else {
    tags.push(['e', parent.id, relayHint, 'root', parent.pubkey]);
  }
  const ps = [parent.pubkey, ...thread.profiles].filter((p) => p !== self);
  for (const p of new Set(ps)) tags.push(['p', p]);
  return tags;
}
