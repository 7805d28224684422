import { afterEach, describe, expect, it } from 'vitest';
import { finalizeEvent } from '../../src/protocol/crypto.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { Fixture, signerOf, waitFor } from './helpers.js';

const fx = new Fixture();
afterEach(() => fx.cleanup());

function pool(relays: string[], extra: ConstructorParameters<typeof WsRelayPool>[0] = {}): WsRelayPool {
  const p = new WsRelayPool({ relays, backoff: { initialMs: 100, maxMs: 1000, jitter: 0 }, pingIntervalMs: 0, ...extra });
  fx.onClose(() => p.close());
  return p;
}

describe('WsRelayPool against relay-dev', () => {
  it('publishes with real OK answers, never "sent" when down, and dedupes a req across relays', async () => {
    const a = await fx.relay();
    const b = await fx.relay();
    const gone = await fx.relay();
    const downUrl = gone.url;
    await gone.close();
    const p = pool([a.url, b.url, downUrl]);
    await waitFor('two relays connected', () => p.status().filter((s) => s.state === 'connected').length === 2);
    const key = hexToBytes('07'.repeat(32));
    const note = finalizeEvent({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [], content: 'hi' }, key);
    const results = await p.publish(note);
    expect(results.find((r) => r.relay === a.url)).toEqual({ relay: a.url, ok: true, message: '' });
    // Not connected, or (after three failed attempts) skipped by its open breaker: never "sent".
    expect(results.find((r) => r.relay === downUrl)).toMatchObject({ ok: false, message: expect.stringMatching(/^error: (relay not connected|not tried: circuit open)/) });
    const again = await p.publish(note, { relays: [a.url] });
    expect(again[0]).toMatchObject({ ok: true });
    expect(again[0]!.message).toMatch(/^duplicate:/);
    const got = await p.fetch([{ ids: [note.id] }], { relays: [a.url, b.url] });
    expect(got.map((e) => e.id)).toEqual([note.id]);
    expect(p.status().find((s) => s.url === downUrl)?.state).not.toBe('connected');
  });

  it('authenticates several keys on one connection so private kinds addressed to each are served', async () => {
    const r = await fx.relay();
    const sender = pool([r.url]);
    const agents = [signerOf(0x11), signerOf(0x12)];
    const alice = signerOf(0x13);
    for (const agent of agents) {
      const [wrap] = buildDirectMessage(alice, agent.getPublicKey(), `for ${agent.getPublicKey().slice(0, 4)}`);
      expect((await sender.publish(wrap!.event))[0]).toMatchObject({ ok: true });
    }
    const p = pool([r.url]);
    for (const agent of agents) p.addAuthSigner(agent);
    await waitFor('both keys authenticated', () => p.status()[0]?.authenticated.length === 2);
    const got = await p.fetch([{ kinds: [1059], '#p': agents.map((a) => a.getPublicKey()) }]);
    expect(got).toHaveLength(2);
  });

  it('drops (and counts) frames that are not valid NIP-01 and events with bad signatures', async () => {
    const r = await fx.relay();
    const p = pool([r.url]);
    await waitFor('connected', () => p.status()[0]?.state === 'connected');
    const key = hexToBytes('08'.repeat(32));
    const note = finalizeEvent({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [['t', 'x']], content: 'ok' }, key);
    const forged = { ...note, content: 'tampered' };
    const seen: string[] = [];
    const ac = new AbortController();
    const done = (async () => {
      for await (const item of p.req([{ kinds: [1], '#t': ['x'] }], { signal: ac.signal })) if (item.type === 'event') seen.push(item.event.content);
    })();
    await waitFor('subscription open on the relay', () => [...r.relay.connections].some((c) => c.subs.size > 0));
    const conn = [...r.relay.connections][0]!;
    const subId = [...conn.subs.keys()][0]!;
    conn.send('not json');
    conn.send(JSON.stringify(['EVENT', subId, { id: 'short' }]));
    conn.send(JSON.stringify(['EVENT', subId, forged]));
    conn.send(JSON.stringify(['EVENT', 'someone-else', note]));
    conn.send(JSON.stringify(['EVENT', subId, note]));
    await waitFor('the genuine event', () => seen.length === 1);
    ac.abort();
    await done;
    expect(seen).toEqual(['ok']);
    expect(p.counters).toMatchObject({ malformed: 2, invalidSignature: 1, unrequested: 1 });
  });

  it('skips only the Schnorr check of events the caller says need no signature; their id is still checked', async () => {
    const r = await fx.relay();
    const p = pool([r.url]);
    await waitFor('connected', () => p.status()[0]?.state === 'connected');
    const key = hexToBytes('09'.repeat(32));
    const note = (content: string) => finalizeEvent({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [['t', 'y']], content }, key);
    const mine = note('mine');
    const other = note('other');
    const badSig = (e: typeof mine) => ({ ...e, sig: (e.sig[0] === '0' ? '1' : '0') + e.sig.slice(1) });
    const seen: string[] = [];
    const ac = new AbortController();
    const done = (async () => {
      for await (const item of p.req([{ kinds: [1], '#t': ['y'] }], { signal: ac.signal, signatureNeeded: (e) => e.id !== mine.id })) if (item.type === 'event') seen.push(item.event.content);
    })();
    await waitFor('subscription open on the relay', () => [...r.relay.connections].some((c) => c.subs.size > 0));
    const conn = [...r.relay.connections][0]!;
    const subId = [...conn.subs.keys()][0]!;
    // A bad signature on an event whose signature is needed: dropped.
    conn.send(JSON.stringify(['EVENT', subId, badSig(other)]));
    // Content that does not hash to the id it claims: dropped even where no signature is needed.
    conn.send(JSON.stringify(['EVENT', subId, { ...badSig(mine), content: 'tampered' }]));
    // The id matches the content and the caller needs no signature: delivered.
    conn.send(JSON.stringify(['EVENT', subId, badSig(mine)]));
    conn.send(JSON.stringify(['EVENT', subId, other]));
    await waitFor('two events', () => seen.length === 2);
    ac.abort();
    await done;
    expect(seen).toEqual(['mine', 'other']);
    expect(p.counters).toMatchObject({ invalidSignature: 2 });
  });
});
