/**
 * relay-dev playing the NIP-42 habits of other relays: when the challenge is sent (`auth`), how
 * unauthenticated reads of private kinds are answered (`withhold`), and one key per connection.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RelayOptions } from '../../relay-dev/index.js';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import type { Message, RawClient } from './client.js';
import { alice, bob, carol, RelayHarness, sign, T0 } from './fixtures.js';

const h = new RelayHarness({ verifyThreads: 0, manualClock: true });
afterEach(() => h.close());
beforeAll(async () => {
  await loadFastCrypto();
});

/** Authenticates `who` with the challenge the client holds; returns the OK [accepted, message]. */
async function auth(c: RawClient, who: { sk: Uint8Array }): Promise<[boolean, string]> {
  const event = sign(who, { kind: 22242, created_at: T0, tags: [['relay', h.relay.url], ['challenge', c.challenge]] });
  c.send(['AUTH', event]);
  const ok = await c.next((m) => m[0] === 'OK' && m[1] === event.id);
  return [ok[2] as boolean, ok[3] as string];
}

/** The NIP-11 document of the running relay. */
async function nip11(): Promise<{ supported_nips: number[]; limitation: Record<string, unknown> }> {
  const res = await fetch(h.relay.url.replace('ws', 'http'), { headers: { accept: 'application/nostr+json' } });
  return (await res.json()) as { supported_nips: number[]; limitation: Record<string, unknown> };
}

const isChallenge = (m: Message): boolean => m[0] === 'AUTH';
const wrapFor = (who: { pk: string }, content: string) => sign(carol, { kind: 1059, tags: [['p', who.pk]], content });
const note = (content: string) => sign(carol, { kind: 1, content });

/** Starts a relay with the options and stores a wrap for bob, a kind 4 for bob and a public note. */
async function seeded(options: RelayOptions) {
  await h.start(options);
  const writer = await h.connect({ challenge: options.auth === 'on-connect' || options.auth === undefined });
  const stored = { wrap: wrapFor(bob, 'wrap for bob'), dm: sign(carol, { kind: 4, tags: [['p', bob.pk]], content: 'dm' }), note: note('public') };
  for (const e of Object.values(stored)) expect((await writer.publish(e))[0]).toBe(true);
  return stored;
}

describe('auth: on-demand (strfry)', () => {
  it('sends no challenge on connect; sends it right before the first auth-required refusal', async () => {
    const stored = await seeded({ auth: 'on-demand' });
    const c = await h.connect({ challenge: false });
    expect((await c.req('pub', { kinds: [1] })).events.map((e) => e.id)).toEqual([stored.note.id]);
    expect(c.received.some(isChallenge)).toBe(false);
    expect((await c.req('dms', { kinds: [1059], '#p': [bob.pk] })).closed).toMatch(/^auth-required: /);
    const challengeAt = c.received.findIndex(isChallenge);
    const closedAt = c.received.findIndex((m) => m[0] === 'CLOSED' && m[1] === 'dms');
    expect(challengeAt).toBeGreaterThanOrEqual(0);
    expect(challengeAt).toBeLessThan(closedAt);
    c.challenge = String(c.received[challengeAt]![1]);
    expect(await auth(c, bob)).toEqual([true, '']);
    expect((await c.req('dms', { kinds: [1059], '#p': [bob.pk] })).events.map((e) => e.id)).toEqual([stored.wrap.id]);
    // One challenge per connection, however many refusals.
    expect(c.received.filter(isChallenge)).toHaveLength(1);
  });

  it('challenges before refusing a protected event, and NIP-11 lists the restricted kinds', async () => {
    await h.start({ auth: 'on-demand' });
    const c = await h.connect({ challenge: false });
    const own = sign(alice, { kind: 1, tags: [['-']], content: 'mine only' });
    expect((await c.publish(own))[1]).toMatch(/^auth-required: /);
    c.challenge = String((await c.next(isChallenge))[1]);
    expect(await auth(c, alice)).toEqual([true, '']);
    expect(await c.publish(own)).toEqual([true, '']);
    const info = await nip11();
    expect(info.limitation).toMatchObject({ auth_required: false, restricted_read_kinds: [4, 1059] });
    expect(info.supported_nips).toContain(42);
  });
});

describe('auth: required', () => {
  it('refuses every REQ, COUNT and EVENT before AUTH and serves them after; NIP-11 says auth_required', async () => {
    await h.start({ auth: 'required' });
    const c = await h.connect();
    expect((await c.req('pub', { kinds: [1] })).closed).toMatch(/^auth-required: /);
    c.send(['COUNT', 'n', { kinds: [1] }]);
    expect((await c.next((m) => m[0] === 'CLOSED' && m[1] === 'n'))[2]).toMatch(/^auth-required: /);
    const e = note('after auth');
    expect(await c.publish(e)).toEqual([false, expect.stringMatching(/^auth-required: /)]);
    expect(await auth(c, alice)).toEqual([true, '']);
    expect(await c.publish(e)).toEqual([true, '']);
    expect((await c.req('pub', { kinds: [1] })).events.map((x) => x.id)).toEqual([e.id]);
    const info = await nip11();
    expect(info.limitation.auth_required).toBe(true);
  });
});

describe('auth: off', () => {
  it('sends no challenge, answers AUTH with a NOTICE, serves private kinds to anyone, and says so in NIP-11', async () => {
    const stored = await seeded({ auth: 'off' });
    const c = await h.connect({ challenge: false });
    const got = await c.req('dms', { kinds: [1059, 4] });
    expect(got.closed).toBeUndefined();
    expect(got.events.map((e) => e.id).sort()).toEqual([stored.wrap.id, stored.dm.id].sort());
    expect(c.received.some(isChallenge)).toBe(false);
    c.send(['AUTH', sign(alice, { kind: 22242, tags: [['challenge', 'x']] })]);
    expect((await c.next((m) => m[0] === 'NOTICE'))[1]).toMatch(/does not support AUTH/);
    expect((await c.publish(sign(alice, { kind: 1, tags: [['-']] })))[1]).toMatch(/^blocked: /);
    const info = await nip11();
    expect(info.supported_nips).not.toContain(42);
    expect(info.limitation.restricted_read_kinds).toEqual([]);
  });
});

describe('withhold', () => {
  it('mixed (strfry): refuses a REQ of private kinds only, withholds them from a mixed one, stored and live', async () => {
    const stored = await seeded({ withhold: 'mixed' });
    const c = await h.connect();
    expect((await c.req('only', { kinds: [1059] }, { kinds: [4], '#p': [bob.pk] })).closed).toMatch(/^auth-required: /);
    const mixed = await c.req('mixed', { kinds: [1059], '#p': [bob.pk] }, { kinds: [1] });
    expect(mixed.closed).toBeUndefined();
    expect(mixed.events.map((e) => e.id)).toEqual([stored.note.id]);
    expect((await c.req('mixed-filter', { kinds: [4, 1] })).events.map((e) => e.id)).toEqual([stored.note.id]);
    // Live: a wrap for bob then a note; the open subscription gets the note only.
    const writer = await h.connect();
    const liveWrap = wrapFor(bob, 'live wrap');
    const liveNote = note('live note');
    await writer.publish(liveWrap);
    await writer.publish(liveNote);
    await c.next((m) => m[0] === 'EVENT' && m[1] === 'mixed' && (m[2] as { id: string }).id === liveNote.id);
    expect(c.received.some((m) => m[0] === 'EVENT' && (m[2] as { id: string }).id === liveWrap.id)).toBe(false);
    // Authenticated as bob, the same mixed REQ brings bob's wraps.
    expect(await auth(c, bob)).toEqual([true, '']);
    const after = await c.req('mixed', { kinds: [1059], '#p': [bob.pk] }, { kinds: [1] });
    expect(after.events.map((e) => e.id)).toEqual(expect.arrayContaining([stored.wrap.id, liveWrap.id, stored.note.id, liveNote.id]));
  });

  it('all: never refuses a read; private kinds come back empty until AUTH', async () => {
    const stored = await seeded({ withhold: 'all' });
    const c = await h.connect();
    const before = await c.req('w', { kinds: [1059], '#p': [bob.pk] });
    expect(before).toEqual({ events: [] });
    expect(await auth(c, bob)).toEqual([true, '']);
    expect((await c.req('w', { kinds: [1059], '#p': [bob.pk] })).events.map((e) => e.id)).toEqual([stored.wrap.id]);
  });
});

describe('authKeysPerConnection', () => {
  it('accepts one key per connection like strfry; another connection takes the next key', async () => {
    await h.start({ authKeysPerConnection: 1 });
    const c = await h.connect();
    expect(await auth(c, alice)).toEqual([true, '']);
    expect(await auth(c, bob)).toEqual([false, expect.stringMatching(/^error: already authenticated/)]);
    expect(await auth(c, alice)).toEqual([true, '']);
    const other = await h.connect();
    expect(await auth(other, bob)).toEqual([true, '']);
    expect([...h.relay.relay.connections].map((x) => [...x.authed])).toEqual(expect.arrayContaining([[alice.pk], [bob.pk]]));
  });
});
