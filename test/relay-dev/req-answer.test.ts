/**
 * A REQ's stored answer as a client receives it from relay-dev on loopback: every EVENT frame whole
 * and in NIP-01 order, the stored JSON byte for byte, EOSE last, for small and large limits and for
 * answers that are all ASCII (encoded in one pass) or carry UTF-8 text (encoded frame by frame).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { serializeForStorage } from '../../relay-dev/event-meta.js';
import { alice, bob, RelayHarness, sign, T0 } from './fixtures.js';

const h = new RelayHarness({ verifyThreads: 0, limits: { maxLimit: 400 } });
/** alice: 600 ASCII events; bob: 120 events, every third with UTF-8 content, one of ~70 KB. */
const asciiEvents: NostrEvent[] = [];
const mixedEvents: NostrEvent[] = [];

beforeAll(async () => {
  await loadFastCrypto();
  await h.start();
  for (let i = 0; i < 600; i++) asciiEvents.push(sign(alice, { kind: 1, created_at: T0 + i, tags: [['t', `n${i % 7}`]], content: `plain event ${i}` }));
  for (let i = 0; i < 120; i++) {
    const content = i === 60 ? `long ${'z'.repeat(70_000)} é` : i % 3 === 0 ? `café ${i} 😀 日本` : `ascii ${i}`;
    mixedEvents.push(sign(bob, { kind: 1, created_at: T0 + i, content }));
  }
  // Stored through the relay's own store (verification is not what this file tests).
  h.relay.relay.store.saveBatch([...asciiEvents, ...mixedEvents].map((event) => ({ event, raw: serializeForStorage(event) })));
});
afterAll(() => h.close());

/** Every text frame the socket receives, in arrival order, as the raw text (but the AUTH challenge). */
async function openSocket(): Promise<{ ws: WebSocket; frames: string[]; until(pred: (f: string) => boolean): Promise<void> }> {
  const ws = new WebSocket(h.relay.url);
  const frames: string[] = [];
  let waiter: (() => void) | undefined;
  ws.on('message', (data: Buffer) => {
    const text = data.toString('utf8');
    if (!text.startsWith('["AUTH",')) frames.push(text);
    waiter?.();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const until = async (pred: (f: string) => boolean): Promise<void> => {
    while (!frames.some(pred)) await new Promise<void>((resolve) => (waiter = resolve));
  };
  return { ws, frames, until };
}

/** NIP-01 order: newest first, ties by lowest id. */
function newestFirst(events: NostrEvent[]): NostrEvent[] {
  return [...events].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1));
}

describe('relay-dev: a REQ answer on the wire', () => {
  it.each([
    ['ASCII, limit 1', 'alice', 1],
    ['ASCII, limit 50', 'alice', 50],
    ['ASCII, limit 400 (the cap)', 'alice', 1000],
    ['UTF-8 and a 64-bit-length frame, limit 50', 'bob', 50],
    ['UTF-8, all 120', 'bob', 400],
  ] as const)('%s: whole frames, stored JSON byte for byte, in order, EOSE last', async (_name, who, limit) => {
    const { ws, frames, until } = await openSocket();
    const source = who === 'alice' ? asciiEvents : mixedEvents;
    const author = who === 'alice' ? alice.pk : bob.pk;
    ws.send(JSON.stringify(['REQ', 'sub-1', { authors: [author], kinds: [1], limit }]));
    await until((f) => f === '["EOSE","sub-1"]');
    // A ping after the EOSE: anything the relay still had to send for this REQ would come before its pong.
    await new Promise<void>((resolve) => {
      ws.once('pong', () => resolve());
      ws.ping();
    });
    const expected = newestFirst(source).slice(0, Math.min(limit, 400));
    expect(frames).toHaveLength(expected.length + 1);
    expect(frames.at(-1)).toBe('["EOSE","sub-1"]');
    expect(frames.slice(0, -1)).toEqual(expected.map((e) => `["EVENT","sub-1",${serializeForStorage(e)}]`));
    ws.close();
  });

  it('two subscriptions answered back to back keep their frames apart, each ending in its own EOSE', async () => {
    const { ws, frames, until } = await openSocket();
    ws.send(JSON.stringify(['REQ', 'é-sub', { authors: [bob.pk], limit: 30 }]));
    ws.send(JSON.stringify(['REQ', 'a', { authors: [alice.pk], '#t': ['n3'], limit: 20 }]));
    await until((f) => f === '["EOSE","a"]');
    const first = newestFirst(mixedEvents).slice(0, 30).map((e) => `["EVENT","é-sub",${serializeForStorage(e)}]`);
    const second = newestFirst(asciiEvents.filter((e) => e.tags[0]![1] === 'n3')).slice(0, 20).map((e) => `["EVENT","a",${serializeForStorage(e)}]`);
    expect(frames).toEqual([...first, '["EOSE","é-sub"]', ...second, '["EOSE","a"]']);
    ws.close();
  });

  it('de-duplicates events matched by more than one filter, and a single filter sends each event once', async () => {
    const { ws, frames, until } = await openSocket();
    const newest = newestFirst(asciiEvents);
    ws.send(JSON.stringify(['REQ', 'd', { authors: [alice.pk], limit: 5 }, { ids: [newest[2]!.id, newest[10]!.id] }, { authors: [alice.pk], limit: 3 }]));
    await until((f) => f === '["EOSE","d"]');
    const ids = frames.slice(0, -1).map((f) => (JSON.parse(f) as [string, string, NostrEvent])[2].id);
    expect(ids).toEqual([...newest.slice(0, 5), newest[10]!].map((e) => e.id));
    ws.close();
  });
});
