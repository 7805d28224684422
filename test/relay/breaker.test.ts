/**
 * The per-relay circuit breaker: its state machine on a manual clock, and the pool routing publishes and
 * REQs around a relay whose breaker is open (never dropping every relay), then trying it again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RelayBreaker } from '../../src/relay/breaker.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import { ManualClock } from '../../src/util/clock.js';
import { Fixture, signerOf, waitFor } from './helpers.js';

const fx = new Fixture();
afterEach(() => fx.cleanup());

describe('RelayBreaker', () => {
  it('opens after three failures in a row, half-opens after its backoff, reopens longer on a failed probe, closes on success', async () => {
    const clock = new ManualClock(0);
    const b = new RelayBreaker('ws://r', clock, { backoff: { initialMs: 1000, jitter: 0 } });
    b.failure('error: one');
    b.failure('error: two');
    b.success();
    b.failure('error: one');
    b.failure('error: two');
    expect(b.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 2 });
    b.failure('error: three');
    expect(b.snapshot()).toMatchObject({ state: 'open', consecutiveFailures: 3, opens: 1, retryAt: 1000, lastFailure: 'error: three' });
    expect(b.allows()).toBe(false);
    b.failure('error: while open');
    expect(b.snapshot().retryAt).toBe(1000);
    await clock.advance(1000);
    expect(b.state()).toBe('half-open');
    expect(b.allows()).toBe(true);
    b.failure('error: probe');
    expect(b.snapshot()).toMatchObject({ state: 'open', opens: 2, retryAt: 3000 });
    const low = b.snapshot().score;
    expect(low).toBeLessThan(0.5);
    await clock.advance(2000);
    b.success();
    expect(b.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0, opens: 0 });
    expect(b.snapshot().score).toBeGreaterThan(low);
  });
});

describe('WsRelayPool with breakers', () => {
  it('skips a failing relay while its breaker is open, never drops all relays, and tries it again after the backoff', async () => {
    const good = await fx.relay();
    let failing = true;
    let reqs = 0;
    const bad = await fx.relay({
      configure: (relay) => {
        relay.rejectEvent.push(() => (failing ? 'error: disk full' : undefined));
        relay.rejectFilter.push(() => void reqs++);
      },
    });
    const pool = new WsRelayPool({ relays: [good.url, bad.url], pingIntervalMs: 0, breaker: { backoff: { initialMs: 500, jitter: 0 } } });
    fx.onClose(() => pool.close());
    const author = signerOf(0x51);
    const note = (i: number) => author.signEvent({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [], content: `note ${i}` });
    for (let i = 0; i < 3; i++) {
      const results = await pool.publish(note(i));
      expect(results.map((r) => [r.relay, r.ok])).toEqual([[good.url, true], [bad.url, false]]);
    }
    expect(pool.breakers().find((b) => b.url === bad.url)).toMatchObject({ state: 'open', consecutiveFailures: 3, lastFailure: 'error: disk full' });
    expect(pool.status().find((s) => s.url === bad.url)?.breaker?.state).toBe('open');

    // Open: publishes and REQs go to the healthy relay only.
    const received = bad.relay.stats.received;
    const skipped = await pool.publish(note(3));
    expect(skipped[0]).toMatchObject({ relay: good.url, ok: true });
    expect(skipped[1]).toMatchObject({ relay: bad.url, ok: false, message: expect.stringMatching(/^error: not tried: circuit open after 3 failures in a row \(last: error: disk full\); next try at /) });
    const reqsBefore = reqs;
    expect((await pool.fetch([{ kinds: [1], authors: [author.getPublicKey()] }])).length).toBe(4);
    expect(reqs).toBe(reqsBefore);
    expect(bad.relay.stats.received).toBe(received);
    // Asked for the open relay alone, the pool still tries it: never every relay dropped.
    expect((await pool.publish(note(4), { relays: [bad.url] }))[0]).toMatchObject({ ok: false, message: 'error: disk full' });
    expect(bad.relay.stats.received).toBe(received + 1);

    // The relay recovers; past the backoff the next publish is a probe that closes the breaker.
    failing = false;
    await waitFor('the backoff to pass', () => pool.breakers().find((b) => b.url === bad.url)?.state === 'half-open', 10_000);
    const probe = await pool.publish(note(5));
    expect(probe.every((r) => r.ok)).toBe(true);
    expect(pool.breakers().find((b) => b.url === bad.url)).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });
});
