/** relay-dev's /metrics: EVENT answers by result and refusal prefix, REQ latency, refused subscriptions, connections. */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { scrape } from '../helpers/prometheus.js';
import { RelayHarness, alice, sign } from './fixtures.js';

const h = new RelayHarness({ verifyThreads: 0, metrics: true });
beforeAll(loadFastCrypto);
afterEach(() => h.close());

describe('relay-dev metrics', () => {
  it('counts stored, duplicate and refused events by prefix, REQs with their latency, and open connections', async () => {
    const relay = await h.start();
    const metricsUrl = `${relay.url.replace('ws://', 'http://')}/metrics`;
    const c = await h.connect();
    const note = sign(alice, { kind: 1, content: 'counted' });
    expect(await c.publish(note)).toEqual([true, '']);
    expect((await c.publish(note))[1]).toMatch(/^duplicate:/);
    const forged = { ...sign(alice, { kind: 1, content: 'original' }), content: 'tampered' };
    expect((await c.publish(forged))[1]).toMatch(/^invalid:/);
    expect((await c.publish(sign(alice, { kind: 22242, content: '' })))[1]).toMatch(/^invalid:/);
    await c.req('one', { authors: [alice.pk] });
    const tooMany = await c.req('many', ...Array.from({ length: 50 }, () => ({ kinds: [1] })));
    expect(tooMany.closed).toMatch(/^invalid:/);

    const s = await scrape(metricsUrl);
    expect(s.value('relay_events_total', { result: 'stored' })).toBe(1);
    expect(s.value('relay_events_total', { result: 'duplicate' })).toBe(1);
    expect(s.value('relay_events_total', { result: 'refused' })).toBe(2);
    expect(s.value('relay_events_refused_total', { reason: 'invalid' })).toBe(2);
    expect(s.count('relay_req_duration_seconds')).toBe(1);
    expect(s.value('relay_req_events_total')).toBe(1);
    expect(s.value('relay_subscriptions_refused_total', { reason: 'invalid' })).toBe(1);
    expect(s.value('relay_connections')).toBe(1);
    expect(s.value('relay_subscriptions')).toBe(1);
    expect(s.type('relay_req_duration_seconds')).toBe('HISTOGRAM');
    expect(s.text).not.toContain(alice.pk);
  });

  it('serves no /metrics unless asked', async () => {
    const relay = await h.start({ metrics: false });
    const res = await fetch(`${relay.url.replace('ws://', 'http://')}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; charset=utf-8$/);
    expect(await res.text()).toMatch(/a Nostr relay/);
  });
});
