import { describe, expect, it } from 'vitest';
import { createReplyTags, parseThread } from '../../src/protocol/nip10.js';
import { relayInfoUrl, RelayInfoSchema } from '../../src/protocol/nip11.js';
import { nprofileEncode, npubEncode } from '../../src/protocol/nip19.js';
import { profileReferences } from '../../src/protocol/nip27.js';
import { createRelayList, parseRelayList } from '../../src/protocol/nip65.js';
import { createAgentList, createAgentMetadata } from '../../src/protocol/nipae.js';
import { normalizeRelayUrl, parseRelayUrl } from '../../src/protocol/relay-url.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const ME = 'd'.repeat(64);
const ROOT = '1'.repeat(64);
const MID = '2'.repeat(64);
const MENTION = '3'.repeat(64);

describe('NIP-10 threads', () => {
  it('reads marked tags, positional tags and a direct reply to the root', () => {
    expect(parseThread({ tags: [['e', ROOT, '', 'root'], ['e', MID, 'wss://r', 'reply', B], ['e', MENTION, '', 'mention'], ['p', A], ['p', A]] })).toEqual({
      root: { id: ROOT, relay: undefined, pubkey: undefined },
      reply: { id: MID, relay: 'wss://r', pubkey: B },
      mentions: [{ id: MENTION, relay: undefined, pubkey: undefined }],
      profiles: [A],
    });
    expect(parseThread({ tags: [['e', ROOT, '', 'root']] }).reply?.id).toBe(ROOT);
    const positional = parseThread({ tags: [['e', ROOT], ['e', MENTION], ['e', MID]] });
    expect([positional.root?.id, positional.reply?.id, positional.mentions.map((m) => m.id)]).toEqual([ROOT, MID, [MENTION]]);
    expect(parseThread({ tags: [['e', 'nothex']] })).toEqual({ mentions: [], profiles: [] });
  });

  it('replies to a root with one root marker, to a reply with root + reply, p tags of the thread minus self', () => {
    expect(createReplyTags({ id: ROOT, pubkey: A, tags: [['p', ME]] }, ME, 'wss://h')).toEqual([['e', ROOT, 'wss://h', 'root', A], ['p', A]]);
    const tags = createReplyTags({ id: MID, pubkey: B, tags: [['e', ROOT, 'wss://x', 'root', A], ['p', A], ['p', ME], ['p', C]] }, ME);
    expect(tags).toEqual([['e', ROOT, 'wss://x', 'root', A], ['e', MID, '', 'reply', B], ['p', B], ['p', A], ['p', C]]);
  });
});

describe('NIP-27 references', () => {
  it('finds npub and nprofile references and skips broken ones', () => {
    const text = `hey nostr:${npubEncode(A)} and nostr:${nprofileEncode(B, ['wss://r.example'])}, again nostr:${npubEncode(A)} nostr:npub1qqqq`;
    expect(profileReferences(text)).toEqual([A, B]);
    expect(profileReferences('no refs here npub1abc')).toEqual([]);
  });
});

describe('NIP-65 relay lists and relay URLs', () => {
  it('reads read/write markers and writes them back', () => {
    const event = { kind: 10002, tags: [['r', 'wss://both.example/'], ['r', 'wss://w.example', 'write'], ['r', 'wss://r.example', 'read'], ['r', 'nope']] };
    const list = parseRelayList(event);
    expect(list).toEqual({ read: ['wss://both.example', 'wss://r.example'], write: ['wss://both.example', 'wss://w.example'] });
    expect(createRelayList(list, 1).tags).toEqual([['r', 'wss://both.example'], ['r', 'wss://r.example', 'read'], ['r', 'wss://w.example', 'write']]);
  });

  it('normalizes relay URLs and names bad ones', () => {
    expect(normalizeRelayUrl(' WSS://Relay.Example.com/ ')).toBe('wss://relay.example.com');
    expect(normalizeRelayUrl('ws://127.0.0.1:7777/path')).toBe('ws://127.0.0.1:7777/path');
    expect(normalizeRelayUrl('https://relay.example.com')).toBeUndefined();
    expect(() => parseRelayUrl('relay.example.com')).toThrow(/not a relay URL/);
    expect(relayInfoUrl('wss://r.example')).toBe('https://r.example');
  });

  it('parses NIP-11 limits leniently', () => {
    expect(RelayInfoSchema.parse({ name: 'x', limitation: { max_filters: 10, max_limit: 'lots', max_subid_length: 64 } }).limitation).toEqual({
      max_filters: 10,
      max_limit: undefined,
      max_subid_length: 64,
      max_message_length: undefined,
      max_subscriptions: undefined,
      auth_required: undefined,
    });
  });
});

describe('NIP-AE agent ownership', () => {
  it('tags the agent profile as a bot owned by the owner and lists agents under the owner', () => {
    const meta = createAgentMetadata({ name: 'echo', about: 'repeats' }, A, 3);
    expect(JSON.parse(meta.content)).toEqual({ name: 'echo', about: 'repeats', bot: true });
    expect(meta.tags).toEqual([['bot'], ['p', A]]);
    expect(createAgentList([B, C, B], 4)).toEqual({ kind: 14199, created_at: 4, content: '', tags: [['p', B], ['p', C]] });
  });
});
