/** NIP-09, 40, 42, 45, 50 and 70 conformance over a plain WebSocket. */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RelayOptions } from '../../relay-dev/index.js';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import type { RawClient } from './client.js';
import { alice, bob, carol, RelayHarness, sign, T0 } from './fixtures.js';

/** The relay's clock (h.clockMs) starts at T0 on each start; tests move it. */
const h = new RelayHarness({ verifyThreads: 0, manualClock: true });
const start = async (options: RelayOptions = {}): Promise<void> => void (await h.start(options));
const connect = (): Promise<RawClient> => h.connect();
/** Sends AUTH for `who` and returns the OK [accepted, message]. */
async function auth(c: RawClient, who: { sk: Uint8Array }, tweak: { challenge?: string; relay?: string; created_at?: number; kind?: number } = {}) {
  const event = sign(who, {
    kind: tweak.kind ?? 22242,
    created_at: tweak.created_at ?? T0,
    tags: [['relay', tweak.relay ?? h.relay.url], ['challenge', tweak.challenge ?? c.challenge]],
  });
  c.send(['AUTH', event]);
  const ok = await c.next((m) => m[0] === 'OK' && m[1] === event.id);
  return [ok[2], ok[3]];
}

beforeAll(async () => {
  await loadFastCrypto();
});
afterEach(() => h.close());

describe('NIP-09 deletion', () => {
  it('deletes by e and a tags only for the author, keeps and serves the request, refuses re-publication', async () => {
    await start();
    const c = await connect();
    const note = sign(alice, { kind: 1, content: 'regret' });
    const article = sign(alice, { kind: 30023, tags: [['d', 'post']], content: 'draft' });
    const bobs = sign(bob, { kind: 1, content: 'mine' });
    for (const e of [note, article, bobs]) await c.publish(e);
    const forged = sign(bob, { kind: 5, created_at: T0 + 1, tags: [['e', note.id]] });
    expect(await c.publish(forged)).toEqual([true, '']);
    expect((await c.req('x', { ids: [note.id] })).events).toHaveLength(1);
    const request = sign(alice, {
      kind: 5,
      created_at: T0 + 2,
      tags: [['e', note.id], ['e', bobs.id], ['a', `30023:${alice.pk}:post`], ['k', '1'], ['k', '30023']],
    });
    expect(await c.publish(request)).toEqual([true, '']);
    expect((await c.req('y', { ids: [note.id, article.id, bobs.id] })).events.map((e) => e.id)).toEqual([bobs.id]);
    expect((await c.req('z', { kinds: [5], authors: [alice.pk] })).events).toEqual([request]);
    const [ok, message] = await c.publish(note);
    expect(ok).toBe(false);
    expect(message).toMatch(/^blocked: .*deleted/);
  });
});

describe('NIP-40 expiration', () => {
  it('refuses expired events, stops serving them at expiry, and purges them', async () => {
    await start();
    const c = await connect();
    const stale = sign(alice, { kind: 1, tags: [['expiration', String(T0 - 1)]] });
    expect(await c.publish(stale)).toEqual([false, expect.stringMatching(/^invalid: .*expired/)]);
    const bad = sign(alice, { kind: 1, tags: [['expiration', 'soon']] });
    expect((await c.publish(bad))[1]).toMatch(/^invalid: .*expiration/);
    const brief = sign(alice, { kind: 1, tags: [['expiration', String(T0 + 60)]], content: 'brief' });
    expect(await c.publish(brief)).toEqual([true, '']);
    expect((await c.req('a', { kinds: [1] })).events).toEqual([brief]);
    h.clockMs = (T0 + 60) * 1000;
    expect((await c.req('b', { kinds: [1] })).events).toEqual([]);
    expect(h.relay.relay.store.has(brief.id)).toBe(true);
    expect(h.relay.relay.store.purgeExpired(h.relay.relay.nowSeconds())).toBe(1);
    expect(h.relay.relay.store.has(brief.id)).toBe(false);
  });

  it('purges on a timer', async () => {
    await start({ purgeIntervalMs: 20 });
    const c = await connect();
    const brief = sign(alice, { kind: 1, tags: [['expiration', String(T0 + 1)]] });
    await c.publish(brief);
    h.clockMs = (T0 + 5) * 1000;
    const deadline = Date.now() + 10_000;
    while (h.relay.relay.store.has(brief.id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(h.relay.relay.store.has(brief.id)).toBe(false);
  });
});

describe('NIP-42 AUTH and private kinds', () => {
  it('sends a challenge on connect and checks kind, challenge, relay and created_at', async () => {
    await start();
    const c = await connect();
    expect(c.challenge).toMatch(/^[0-9a-f]{32}$/);
    expect(await auth(c, alice, { challenge: 'wrong' })).toEqual([false, expect.stringMatching(/^invalid: .*challenge/)]);
    expect(await auth(c, alice, { relay: 'wss://elsewhere.example.com' })).toEqual([false, expect.stringMatching(/^invalid: .*relay/)]);
    expect(await auth(c, alice, { created_at: T0 - 601 })).toEqual([false, expect.stringMatching(/^invalid: .*created_at/)]);
    expect(await auth(c, alice, { kind: 1 })).toEqual([false, expect.stringMatching(/^invalid: .*22242/)]);
    expect(await auth(c, alice, { relay: h.relay.url.replace('127.0.0.1', 'localhost') + '/' })).toEqual([true, '']);
    expect(await auth(c, bob, { created_at: T0 + 599 })).toEqual([true, '']);
    expect([...[...h.relay.relay.connections][0]!.authed].sort()).toEqual([alice.pk, bob.pk].sort());
  });

  it('serves gift wraps and kind 4 only to the authenticated recipient', async () => {
    await start();
    const writer = await connect();
    const toBob = sign(carol, { kind: 1059, tags: [['p', bob.pk]], content: 'wrap for bob' });
    const toAlice = sign(carol, { kind: 1059, tags: [['p', alice.pk]], content: 'wrap for alice' });
    const dmBob = sign(carol, { kind: 4, tags: [['p', bob.pk]], content: 'dm for bob' });
    const note = sign(carol, { kind: 1, content: 'public' });
    for (const e of [toBob, toAlice, dmBob, note]) expect((await writer.publish(e))[0]).toBe(true);

    const anon = await connect();
    expect((await anon.req('w', { kinds: [1059], '#p': [bob.pk] })).closed).toMatch(/^auth-required: /);
    expect((await anon.req('d', { kinds: [4] })).closed).toMatch(/^auth-required: /);
    expect((await anon.req('all', {})).events.map((e) => e.id)).toEqual([note.id]);
    expect((await anon.req('byid', { ids: [toBob.id] })).events).toEqual([]);
    anon.send(['COUNT', 'c', { kinds: [1059] }]);
    expect((await anon.next((m) => m[0] === 'CLOSED' && m[1] === 'c'))[2]).toMatch(/^auth-required: /);

    const bobClient = await connect();
    expect(await auth(bobClient, bob)).toEqual([true, '']);
    const got = await bobClient.req('w', { kinds: [1059, 4] });
    expect(got.closed).toBeUndefined();
    expect(got.events.map((e) => e.id).sort()).toEqual([toBob.id, dmBob.id].sort());
    expect((await bobClient.req('alice', { kinds: [1059], '#p': [alice.pk] })).events).toEqual([]);
    const mixed = await bobClient.req('mixed', { kinds: [1, 1059] });
    expect(mixed.events.map((e) => e.id).sort()).toEqual([toBob.id, note.id].sort());

    // Live: a new wrap for bob reaches bob's open subscription and not an authenticated alice's.
    const aliceClient = await connect();
    await auth(aliceClient, alice);
    await aliceClient.req('live', { kinds: [1059] });
    const later = sign(carol, { kind: 1059, created_at: T0 + 1, tags: [['p', bob.pk]], content: 'later' });
    const forAlice = sign(carol, { kind: 1059, created_at: T0 + 2, tags: [['p', alice.pk]], content: 'for alice' });
    await writer.publish(later);
    await writer.publish(forAlice);
    expect((await bobClient.next((m) => m[0] === 'EVENT' && m[1] === 'w'))[2]).toEqual(later);
    expect((await aliceClient.next((m) => m[0] === 'EVENT' && m[1] === 'live'))[2]).toEqual(forAlice);
    expect(aliceClient.messages.filter((m) => m[0] === 'EVENT')).toEqual([]);
    expect(writer.messages.filter((m) => m[0] === 'EVENT')).toEqual([]);
  });
});

describe('NIP-45 COUNT', () => {
  it('counts distinct matches across filters', async () => {
    await start();
    const c = await connect();
    for (let i = 0; i < 5; i++) await c.publish(sign(i < 3 ? alice : bob, { kind: 1, created_at: T0 + i, content: `n${i}` }));
    c.send(['COUNT', 'q', { authors: [alice.pk] }, { kinds: [1], limit: 1 }]);
    expect(await c.next((m) => m[0] === 'COUNT')).toEqual(['COUNT', 'q', { count: 5 }]);
    c.send(['COUNT', 'r', { authors: [bob.pk] }]);
    expect(await c.next((m) => m[0] === 'COUNT')).toEqual(['COUNT', 'r', { count: 2 }]);
    c.send(['COUNT', 's', { kinds: 'x' }]);
    expect((await c.next((m) => m[0] === 'CLOSED' && m[1] === 's'))[2]).toMatch(/^invalid: /);
  });
});

describe('NIP-50 search', () => {
  it('finds events by content words, with other fields, and live', async () => {
    await start();
    const c = await connect();
    await c.publish(sign(alice, { kind: 1, content: 'Nostr relays are simple' }));
    await c.publish(sign(bob, { kind: 1, content: 'relays relay relayed' }));
    await c.publish(sign(bob, { kind: 30023, tags: [['d', 'x']], content: 'a long form about relays' }));
    const found = await c.req('s', { search: 'relays' });
    expect(found.events).toHaveLength(3);
    expect((await c.req('t', { search: 'RELAYS simple' })).events.map((e) => e.content)).toEqual(['Nostr relays are simple']);
    expect((await c.req('u', { search: 'relays', kinds: [30023] })).events).toHaveLength(1);
    expect((await c.req('v', { search: 'relays', authors: [alice.pk], limit: 5 })).events).toHaveLength(1);
    await c.req('live', { search: 'zebra' });
    await c.publish(sign(alice, { kind: 1, created_at: T0 + 1, content: 'no match here' }));
    const zebra = sign(alice, { kind: 1, created_at: T0 + 2, content: 'a Zebra appears' });
    await c.publish(zebra);
    expect((await c.next((m) => m[0] === 'EVENT' && m[1] === 'live'))[2]).toEqual(zebra);
    expect(c.messages.filter((m) => m[0] === 'EVENT' && m[1] === 'live')).toEqual([]);
  });
});

describe('NIP-70 protected events', () => {
  it('accepts a ["-"] event only from its authenticated author', async () => {
    await start();
    const c = await connect();
    const protectedNote = sign(alice, { kind: 1, tags: [['-']], content: 'only from me' });
    expect(await c.publish(protectedNote)).toEqual([false, expect.stringMatching(/^auth-required: /)]);
    await auth(c, bob);
    expect(await c.publish(protectedNote)).toEqual([false, expect.stringMatching(/^restricted: /)]);
    await auth(c, alice);
    expect(await c.publish(protectedNote)).toEqual([true, '']);
  });
});
