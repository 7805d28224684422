/** NIP-01 conformance over a plain WebSocket: verbs, every filter field, kinds, validation prefixes. */
import { schnorr } from '@noble/curves/secp256k1.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadFastCrypto, verifyEvent } from '../../src/protocol/crypto.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { bytesToHex, hexToBytes } from '../../src/protocol/hex.js';
import type { RawClient } from './client.js';
import { alice, bob, carol, RelayHarness, sign, T0 } from './fixtures.js';

const h = new RelayHarness({ verifyThreads: 1 });

async function relayAndClient(): Promise<RawClient> {
  await h.start();
  return h.connect();
}
const connect = (): Promise<RawClient> => h.connect();

beforeAll(async () => {
  await loadFastCrypto();
});
afterEach(() => h.close());

describe('NIP-01 verbs', () => {
  it('accepts an event with OK true, and a duplicate with OK true and duplicate:', async () => {
    const c = await relayAndClient();
    expect(h.relay.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const e = sign(alice, { kind: 1, content: 'hello' });
    expect(await c.publish(e)).toEqual([true, '']);
    const [ok, message] = await c.publish(e);
    expect(ok).toBe(true);
    expect(message).toMatch(/^duplicate: /);
  });

  it('answers an id already stored with other content or a bad signature invalid:, never duplicate:', async () => {
    const c = await relayAndClient();
    const e = sign(alice, { kind: 1, content: 'the original' });
    expect(await c.publish(e)).toEqual([true, '']);
    const edited: NostrEvent = { ...e, content: 'not the original' };
    const badSig: NostrEvent = { ...e, sig: 'ab'.repeat(64) };
    expect((await c.publish(edited))[1]).toMatch(/^invalid: /);
    expect((await c.publish(badSig))[1]).toMatch(/^invalid: /);
    // The same event under another valid Schnorr signature (other auxiliary randomness) is the same event.
    const resigned = { ...e, sig: bytesToHex(schnorr.sign(hexToBytes(e.id), alice.sk, new Uint8Array(32).fill(7))) };
    expect(resigned.sig).not.toBe(e.sig);
    expect(verifyEvent(resigned)).toBe(true);
    expect(await c.publish(resigned)).toEqual([true, expect.stringMatching(/^duplicate: /)]);
    expect((await c.req('s', { ids: [e.id] })).events).toEqual([e]);
  });

  it('refuses a binary frame with a NOTICE and keeps the connection', async () => {
    const c = await relayAndClient();
    c.ws.send(Buffer.from(JSON.stringify(['REQ', 'bin', {}])), { binary: true });
    expect((await c.next((m) => m[0] === 'NOTICE'))[1]).toMatch(/^invalid: binary frames/);
    expect(c.received.some((m) => m[1] === 'bin')).toBe(false);
    expect((await c.req('text', { kinds: [1] })).events).toEqual([]);
  });

  it('refuses bad ids, bad signatures and malformed events with invalid:, and lives on', async () => {
    const c = await relayAndClient();
    const e = sign(alice, { kind: 1, content: 'x' });
    const forged = { ...e, content: 'changed' };
    expect((await c.publish(forged))[1]).toMatch(/^invalid: /);
    const badSig = { ...e, sig: e.sig.replace(/^./, e.sig[0] === '0' ? '1' : '0') };
    expect((await c.publish(badSig))[1]).toMatch(/^invalid: /);
    const noSig: Record<string, unknown> = { ...e };
    delete noSig.sig;
    c.send(['EVENT', noSig]);
    expect((await c.next((m) => m[0] === 'OK' && m[1] === e.id))[3]).toMatch(/^invalid: event sig/);
    c.send(['EVENT', 'not an event']);
    expect((await c.next((m) => m[0] === 'NOTICE'))[1]).toMatch(/^invalid: /);
    c.send('this is not json');
    expect((await c.next((m) => m[0] === 'NOTICE'))[1]).toMatch(/^invalid: .*JSON/);
    c.send(['HELLO', 1]);
    expect((await c.next((m) => m[0] === 'NOTICE'))[1]).toMatch(/^invalid: unknown message type/);
    c.send('{"an":"object"}');
    expect((await c.next((m) => m[0] === 'NOTICE'))[1]).toMatch(/^invalid: /);
    expect(await c.publish(e)).toEqual([true, '']);
    expect((await c.req('after', { ids: [e.id] })).events).toHaveLength(1);
    expect(h.relay.relay.store.size()).toBe(1);
  });

  it('answers garbage frames with NOTICE or a prefixed refusal and keeps serving', async () => {
    const c = await relayAndClient();
    const bystander = await connect();
    const frames = [
      '[]', 'null', '"str"', '42', '["REQ"]', '["REQ", 5]', '["REQ", ""]', '["EVENT"]', '["CLOSE"]', '["CLOSE", 1]',
      '["COUNT", "x", null]', '["AUTH"]', '["AUTH", {"id": 5}]', '["EVENT", {"id": 5}]', '["REQ", "x", {"limit": -1}]',
      '["REQ", "y", {"#p": "notalist"}]', '["REQ", "z", {"since": 1.5}]', '[' .repeat(100_000), '["EVENT", {"kind": 70000}]',
    ];
    for (const frame of frames) c.send(frame);
    c.ws.send(Buffer.from([0xff, 0xfe, 0xfd]), { binary: true });
    const e = sign(alice, { kind: 1, content: 'still fine' });
    expect(await c.publish(e)).toEqual([true, '']);
    expect((await bystander.req('ok', { ids: [e.id] })).events).toEqual([e]);
    const answers = c.messages.filter((m) => m[0] === 'NOTICE' || m[0] === 'CLOSED');
    expect(answers.length).toBeGreaterThanOrEqual(frames.length - 2); // CLOSE needs no answer
    for (const m of answers) expect(String(m[m[0] === 'NOTICE' ? 1 : 2])).toMatch(/^(invalid|error): /);
  });

  it('answers REQ with stored events, EOSE, then live events; CLOSE ends it; a REQ with the same id replaces it', async () => {
    const c = await relayAndClient();
    const other = await connect();
    const stored = sign(alice, { kind: 1, content: 'stored' });
    await c.publish(stored);
    const r = await c.req('s1', { kinds: [1] });
    expect(r.events.map((e) => e.id)).toEqual([stored.id]);
    const r2 = await other.req('s2', { authors: [bob.pk] });
    expect(r2.events).toEqual([]);
    const live = sign(bob, { kind: 1, created_at: T0 + 1, content: 'live' });
    await other.publish(live);
    expect((await c.next((m) => m[0] === 'EVENT' && m[1] === 's1'))[2]).toEqual(live);
    expect((await other.next((m) => m[0] === 'EVENT' && m[1] === 's2'))[2]).toEqual(live);
    // CLOSE s1, then prove it gets nothing: a sentinel on a second subscription arrives, s1 stays silent.
    c.send(['CLOSE', 's1']);
    await c.req('sentinel', { kinds: [7] });
    await other.publish(sign(bob, { kind: 1, created_at: T0 + 2, content: 'after close' }));
    const sentinel = sign(bob, { kind: 7, created_at: T0 + 3 });
    await other.publish(sentinel);
    await c.next((m) => m[0] === 'EVENT' && m[1] === 'sentinel');
    expect(c.messages.filter((m) => m[1] === 's1')).toEqual([]);
    // Replacing a subscription: same id, new filters.
    await c.req('sentinel', { kinds: [30000] });
    await other.publish(sign(bob, { kind: 7, created_at: T0 + 4 }));
    const addressable = sign(bob, { kind: 30000, tags: [['d', 'a']] });
    await other.publish(addressable);
    expect((await c.next((m) => m[0] === 'EVENT' && m[1] === 'sentinel'))[2]).toEqual(addressable);
  });

  it('matches every filter field, ORs filters, and orders by created_at desc with ties by id under limit', async () => {
    const c = await relayAndClient();
    const events = [
      sign(alice, { kind: 1, created_at: T0, tags: [['t', 'nostr'], ['p', carol.pk]], content: 'a' }),
      sign(alice, { kind: 7, created_at: T0 + 10, tags: [['e', 'f'.repeat(64)]], content: 'b' }),
      sign(bob, { kind: 1, created_at: T0 + 20, tags: [['t', 'other'], ['R', 'Upper']], content: 'c' }),
      sign(bob, { kind: 1, created_at: T0 + 30, content: 'd' }),
      sign(carol, { kind: 1, created_at: T0 + 30, content: 'e' }),
    ];
    for (const e of events) expect((await c.publish(e))[0]).toBe(true);
    const ids = async (...filters: object[]) => (await c.req(`q${Math.random()}`, ...filters)).events.map((e) => e.content);
    expect(await ids({ ids: [events[1]!.id, events[3]!.id] })).toEqual(['d', 'b']);
    expect(await ids({ authors: [alice.pk] })).toEqual(['b', 'a']);
    expect(await ids({ kinds: [7] })).toEqual(['b']);
    expect(await ids({ '#t': ['nostr', 'other'] })).toEqual(['c', 'a']);
    expect(await ids({ '#p': [carol.pk] })).toEqual(['a']);
    expect(await ids({ '#e': ['f'.repeat(64)] })).toEqual(['b']);
    expect(await ids({ '#R': ['Upper'] })).toEqual(['c']);
    expect(await ids({ since: T0 + 10, until: T0 + 20 })).toEqual(['c', 'b']);
    expect(await ids({ authors: [bob.pk], kinds: [1], since: T0 + 20 })).toEqual(['d', 'c']);
    const tie = [events[3]!, events[4]!].sort((x, y) => (x.id < y.id ? -1 : 1));
    expect(await ids({ limit: 1 })).toEqual([tie[0]!.content]);
    expect(await ids({ limit: 3 })).toEqual([tie[0]!.content, tie[1]!.content, 'c']);
    expect(await ids({ kinds: [7] }, { authors: [carol.pk] }, { kinds: [7] })).toEqual(['b', 'e']);
    expect(await ids({ limit: 0 })).toEqual([]);
    expect((await c.req('bad', { kinds: ['1'] })).closed).toMatch(/^invalid: filter 1: kinds/);
    expect((await c.req('bad2', { unknown: 1 })).closed).toMatch(/^invalid: filter 1: .*unknown/);
    expect((await c.req('nofilter')).closed).toMatch(/^invalid: /);
  });
});

describe('NIP-01 kinds', () => {
  it('keeps the newest replaceable and addressable versions; an older one never wins', async () => {
    const c = await relayAndClient();
    const v1 = sign(alice, { kind: 0, created_at: T0, content: '{"name":"v1"}' });
    const v2 = sign(alice, { kind: 0, created_at: T0 + 5, content: '{"name":"v2"}' });
    await c.publish(v2);
    const [ok, message] = await c.publish(v1);
    expect(ok).toBe(true);
    expect(message).toMatch(/^duplicate: .*newer/);
    expect((await c.req('m', { kinds: [0], authors: [alice.pk] })).events).toEqual([v2]);
    const d1 = sign(alice, { kind: 30078, created_at: T0, tags: [['d', 'k']], content: '1' });
    const d2 = sign(alice, { kind: 30078, created_at: T0 + 1, tags: [['d', 'k']], content: '2' });
    const other = sign(alice, { kind: 30078, created_at: T0, tags: [['d', 'j']], content: 'j' });
    for (const e of [d1, d2, other]) await c.publish(e);
    expect((await c.req('a', { kinds: [30078], '#d': ['k'] })).events).toEqual([d2]);
    expect((await c.req('b', { kinds: [30078] })).events).toHaveLength(2);
  });

  it('delivers ephemeral events live and never stores them', async () => {
    const c = await relayAndClient();
    const listener = await connect();
    await listener.req('eph', { kinds: [20001] });
    const e = sign(alice, { kind: 20001, content: 'now or never' });
    expect(await c.publish(e)).toEqual([true, '']);
    expect((await listener.next((m) => m[0] === 'EVENT' && m[1] === 'eph'))[2]).toEqual(e);
    expect((await c.req('later', { kinds: [20001] })).events).toEqual([]);
    expect(h.relay.relay.store.size()).toBe(0);
    expect((await c.publish(sign(alice, { kind: 22242, tags: [['relay', h.relay.url]] })))[1]).toMatch(/^invalid: /);
  });
});
