/** Limits and policy hooks: every over-limit input gets a prefixed refusal and nobody else notices. */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { policies, type RelayOptions } from '../../relay-dev/index.js';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import type { RawClient } from './client.js';
import { alice, bob, RelayHarness, sign, T0 } from './fixtures.js';

const h = new RelayHarness({ verifyThreads: 0, manualClock: true });
async function start(options: RelayOptions = {}): Promise<RawClient> {
  await h.start(options);
  return h.connect();
}
const connect = (): Promise<RawClient> => h.connect();

beforeAll(async () => {
  await loadFastCrypto();
});
afterEach(() => h.close());

describe('limits', () => {
  it('refuses over-size messages with a matching answer; far over the limit only that socket is dropped', async () => {
    const c = await start({ limits: { maxMessageBytes: 2000 } });
    const bystander = await connect();
    await bystander.req('watch', { kinds: [1] });
    const big = sign(alice, { kind: 1, content: 'x'.repeat(3000) });
    expect(await c.publish(big)).toEqual([false, expect.stringMatching(/^invalid: message is \d+ bytes, the limit is 2000/)]);
    expect((await c.req('big', { authors: Array(40).fill(alice.pk) })).closed).toMatch(/^invalid: message is/);
    c.send(`[${' '.repeat(2500)}`);
    expect((await c.next((m) => m[0] === 'NOTICE'))[1]).toMatch(/^invalid: message is/);
    const small = sign(alice, { kind: 1, content: 'fits' });
    expect(await c.publish(small)).toEqual([true, '']);
    expect((await bystander.next((m) => m[0] === 'EVENT'))[2]).toEqual(small);

    const abuser = await connect();
    abuser.send(JSON.stringify(['EVENT', { junk: 'y'.repeat(2 * 1024 * 1024) }]));
    await expect(abuser.next(() => false, 10_000)).rejects.toThrow(/socket closed \(1009/);
    const after = sign(bob, { kind: 1, content: 'still here' });
    expect(await c.publish(after)).toEqual([true, '']);
    expect((await bystander.next((m) => m[0] === 'EVENT'))[2]).toEqual(after);
  });

  it('caps subscriptions, filters, subscription ids and limit', async () => {
    const c = await start({ limits: { maxSubscriptions: 2, maxFilters: 2, maxSubIdLength: 8, maxLimit: 3 } });
    for (let i = 0; i < 5; i++) await c.publish(sign(alice, { kind: 1, created_at: T0 + i, content: String(i) }));
    expect((await c.req('a', { limit: 10 })).events.map((e) => e.content)).toEqual(['4', '3', '2']);
    expect((await c.req('b', {})).events).toHaveLength(3);
    expect((await c.req('c', {})).closed).toMatch(/^rate-limited: .*limit is 2/);
    expect((await c.req('a', { kinds: [1], limit: 1 })).events).toHaveLength(1); // replacing is fine
    c.send(['CLOSE', 'b']);
    expect((await c.req('c', {}, {}, {})).closed).toMatch(/^invalid: 3 filters/);
    expect((await c.req('toolongsubid', {})).closed).toMatch(/^invalid: subscription id is longer than 8/);
    expect((await c.req('c', { kinds: [1] })).events).toHaveLength(3);
  });

  it('limits the event rate per connection with a token bucket', async () => {
    const c = await start({ limits: { eventsPerSecond: 1, eventBurst: 3 } });
    const other = await connect();
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await c.publish(sign(alice, { kind: 1, created_at: T0 + i, content: String(i) })));
    expect(results.slice(0, 3)).toEqual([[true, ''], [true, ''], [true, '']]);
    expect(results[3]).toEqual([false, expect.stringMatching(/^rate-limited: /)]);
    expect((await other.publish(sign(bob, { kind: 1 })))[0]).toBe(true);
    h.clockMs += 1000;
    expect((await c.publish(sign(alice, { kind: 1, created_at: T0 + 9 })))[0]).toBe(true);
  });

  it('refuses too many tags, too much content and far-future timestamps', async () => {
    const c = await start({ limits: { maxEventTags: 2, maxContentLength: 10, createdAtFutureSeconds: 60 } });
    expect((await c.publish(sign(alice, { kind: 1, tags: [['t', 'a'], ['t', 'b'], ['t', 'c']] })))[1]).toMatch(/^invalid: 3 tags/);
    expect((await c.publish(sign(alice, { kind: 1, content: 'eleven char' })))[1]).toMatch(/^invalid: content/);
    expect((await c.publish(sign(alice, { kind: 1, created_at: T0 + 61 })))[1]).toMatch(/^invalid: created_at/);
    expect((await c.publish(sign(alice, { kind: 1, created_at: T0 + 60 })))[0]).toBe(true);
  });
});

describe('policy hooks', () => {
  it('runs operator hooks: a whitelist, a filter rule, async hooks, throwing hooks and onEventSaved', async () => {
    const saved: NostrEvent[] = [];
    const c = await start({
      configure(relay) {
        relay.rejectEvent.push(policies.allowPubkeys([alice.pk]));
        relay.rejectEvent.push(async (event) => (event.content === 'slow no' ? 'not today' : undefined));
        relay.rejectEvent.push((event) => {
          if (event.content === 'boom') throw new Error('hook bug');
          return undefined;
        });
        relay.rejectFilter.push(policies.requireNarrowFilters());
        relay.onEventSaved.push((event) => saved.push(event));
      },
    });
    expect(await c.publish(sign(bob, { kind: 1 }))).toEqual([false, expect.stringMatching(/^blocked: .*members/)]);
    expect(await c.publish(sign(alice, { kind: 1, content: 'slow no' }))).toEqual([false, 'blocked: not today']);
    expect(await c.publish(sign(alice, { kind: 1, content: 'boom' }))).toEqual([false, expect.stringMatching(/^error: /)]);
    const ok = sign(alice, { kind: 1, content: 'welcome' });
    expect(await c.publish(ok)).toEqual([true, '']);
    expect(saved).toEqual([ok]);
    expect((await c.req('wide', {})).closed).toMatch(/^blocked: /);
    expect((await c.req('narrow', { authors: [alice.pk] })).events).toEqual([ok]);
  });

  it('keeps OKs in arrival order through a batch with mixed outcomes', async () => {
    const c = await start({ configure: (relay) => relay.rejectEvent.push(policies.allowKinds([1])) });
    const batch = [
      sign(alice, { kind: 1, content: 'a' }),
      sign(alice, { kind: 7, content: 'b' }),
      { ...sign(alice, { kind: 1, content: 'c' }), content: 'forged' },
      sign(alice, { kind: 1, content: 'd' }),
    ];
    c.send(batch.map((e) => JSON.stringify(['EVENT', e])).join('')); // not valid JSON as one frame
    expect((await c.next((m) => m[0] === 'NOTICE'))[1]).toMatch(/^invalid: /);
    for (const e of batch) c.send(['EVENT', e]);
    const oks = [];
    for (let i = 0; i < batch.length; i++) oks.push(await c.next((m) => m[0] === 'OK'));
    expect(oks.map((m) => m[1])).toEqual(batch.map((e) => e.id));
    expect(oks.map((m) => m[2])).toEqual([true, false, false, true]);
    expect(oks[1]![3]).toMatch(/^blocked: kind 7/);
    expect(oks[2]![3]).toMatch(/^invalid: /);
  });
  it('stores, answers and broadcasts each event of a small batch before checking the next (a DM wrap is not held behind the sender copy)', async () => {
    const steps: string[] = [];
    const c = await start({
      configure: (relay) => {
        relay.rejectEvent.push((event) => void steps.push(`check ${event.content}`));
        relay.onEventSaved.push((event) => void steps.push(`saved ${event.content}`));
      },
    });
    const watcher = await connect();
    await watcher.req('watch', { kinds: [1] });
    const wrap = sign(alice, { kind: 1, content: 'wrap' });
    const copy = sign(alice, { kind: 1, content: 'copy' });
    const forged = { ...sign(alice, { kind: 1, content: 'x' }), content: 'forged' };
    // The three frames in one TCP write, so they reach the relay in one read and form one batch.
    const socket = (c.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
    socket.cork();
    for (const e of [wrap, forged, copy]) c.send(['EVENT', e]);
    socket.uncork();
    const oks = [];
    for (let i = 0; i < 3; i++) oks.push(await c.next((m) => m[0] === 'OK'));
    expect(oks.map((m) => [m[1], m[2]])).toEqual([[wrap.id, true], [forged.id, false], [copy.id, true]]);
    expect(oks[1]![3]).toMatch(/^invalid: /);
    expect(steps).toEqual(['check wrap', 'saved wrap', 'check forged', 'check copy', 'saved copy']);
    expect([(await watcher.next((m) => m[0] === 'EVENT'))[2], (await watcher.next((m) => m[0] === 'EVENT'))[2]]).toEqual([wrap, copy]);
    expect((await c.req('mine', { authors: [alice.pk] })).events).toHaveLength(2);
  });
  it('runs each hook once per event and keeps OK order when a slow asynchronous hook holds the first event', async () => {
    const calls: string[] = [];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const c = await start({
      configure: (relay) =>
        relay.rejectEvent.push((event) => {
          calls.push(event.content);
          // The first event waits for the test; later ones answer synchronously (the inline fast path).
          return event.content === 'slow' ? held.then(() => 'blocked: held and refused') : undefined;
        }),
    });
    const slow = sign(alice, { kind: 1, content: 'slow' });
    const fast = sign(alice, { kind: 1, content: 'fast' });
    c.send(['EVENT', slow]);
    // Usually slow is in flight on its own when fast arrives; if they share a batch the answers are the same.
    await new Promise((resolve) => setTimeout(resolve, 50));
    c.send(['EVENT', fast]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    const oks = [await c.next((m) => m[0] === 'OK'), await c.next((m) => m[0] === 'OK')];
    expect(oks.map((m) => m[1])).toEqual([slow.id, fast.id]);
    expect(oks.map((m) => m[2])).toEqual([false, true]);
    expect(oks[0]![3]).toBe('blocked: held and refused');
    expect(calls).toEqual(['slow', 'fast']);
    expect((await c.req('mine', { authors: [alice.pk] })).events).toEqual([fast]);
  });
});
