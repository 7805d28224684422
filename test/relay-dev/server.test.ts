/** The server side: NIP-11 over HTTP, clean close, restart on the same port and file, worker verification. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RelayStartError, startRelay, Verifier, type RunningRelay } from '../../relay-dev/index.js';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { RawClient } from './client.js';
import { alice, bob, sign, T0, waitFor } from './fixtures.js';

const relays: RunningRelay[] = [];
const clients: RawClient[] = [];
const dirs: string[] = [];

async function start(options: Parameters<typeof startRelay>[0] = {}): Promise<RunningRelay> {
  const r = await startRelay(options);
  relays.push(r);
  return r;
}

beforeAll(async () => {
  await loadFastCrypto();
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const r of relays.splice(0)) await r.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('NIP-11', () => {
  it('serves the information document with limits and CORS on the same port', async () => {
    const r = await start({ name: 'test relay', limits: { maxSubscriptions: 7 } });
    const http = r.url.replace('ws://', 'http://');
    const res = await fetch(http, { headers: { Accept: 'application/nostr+json' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/nostr+json');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc.name).toBe('test relay');
    expect(doc.supported_nips).toEqual(expect.arrayContaining([1, 9, 11, 40, 42, 45, 50, 70]));
    expect(typeof doc.software).toBe('string');
    expect(typeof doc.version).toBe('string');
    expect(doc.limitation).toMatchObject({
      max_message_length: 512 * 1024,
      max_subscriptions: 7,
      max_filters: expect.any(Number),
      max_limit: expect.any(Number),
      max_subid_length: 64,
      max_events_per_second: expect.any(Number),
    });
    const plain = await fetch(http);
    expect(await plain.text()).toMatch(/Nostr relay/);
    const preflight = await fetch(http, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/GET/);
  });
});

describe('lifecycle', () => {
  it('closes sockets with a reason, is idempotent, and restarts on the same port and file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-dev-'));
    dirs.push(dir);
    const dbFile = join(dir, 'relay.db');
    const first = await start({ dbFile });
    const c = await RawClient.connect(first.url);
    const e = sign(alice, { kind: 1, content: 'survives restarts' });
    expect(await c.publish(e)).toEqual([true, '']);
    await Promise.all([first.close(), first.close()]);
    await first.close();
    expect(c.closedWith).toEqual({ code: 1001, reason: 'relay shutting down' });

    const second = await start({ port: first.port, dbFile });
    expect(second.port).toBe(first.port);
    const c2 = await RawClient.connect(second.url);
    clients.push(c2);
    expect((await c2.req('s', { ids: [e.id] })).events).toEqual([e]);
  });

  it('answers every EVENT received before close', async () => {
    const r = await start({ verifyThreads: 1 });
    const c = await RawClient.connect(r.url);
    const events = Array.from({ length: 30 }, (_, i) => sign(bob, { kind: 1, created_at: T0 + i, content: String(i) }));
    for (const e of events) c.send(['EVENT', e]);
    await waitFor(() => (r.relay.stats.received === events.length ? true : undefined), 10_000, 'all events received');
    await r.close();
    expect(c.messages.filter((m) => m[0] === 'OK').length).toBe(events.length);
  });

  it('reports a port in use as a RelayStartError', async () => {
    const r = await start();
    await expect(startRelay({ port: r.port })).rejects.toThrow(RelayStartError);
    await expect(startRelay({ port: r.port })).rejects.toThrow(/already in use/);
  });
});

describe('signature verification in worker threads', () => {
  it('verifies batches off the main thread with the same answers as inline', async () => {
    const verifier = new Verifier(2);
    try {
      await waitFor(() => (verifier.readyWorkers === 2 ? true : undefined), 20_000, 'workers');
      const good = Array.from({ length: 40 }, (_, i) => sign(alice, { kind: 1, created_at: T0 + i, content: `v${i}` }));
      const bad = good.slice(0, 10).map((e) => ({ ...e, content: `${e.content}!` }));
      const all = [...good, ...bad];
      const results = await Promise.all(all.map((e) => verifier.verify(e, JSON.stringify(e))));
      expect(results).toEqual([...good.map(() => true), ...bad.map(() => false)]);
    } finally {
      await verifier.close();
    }
  });

  it('ingests a concurrent burst through the worker pool with every OK correct', async () => {
    const r = await start({ verifyThreads: 2, limits: { eventsPerSecond: 0 } });
    await waitFor(() => (r.relay.verifier.readyWorkers > 0 ? true : undefined), 20_000, 'workers');
    const c = await RawClient.connect(r.url);
    clients.push(c);
    const events = Array.from({ length: 200 }, (_, i) => sign(bob, { kind: 1, created_at: T0 + i, content: `burst ${i}` }));
    const forged = events.filter((_, i) => i % 50 === 7).map((e) => ({ ...e, created_at: e.created_at + 1 }));
    for (const e of [...events, ...forged]) c.send(['EVENT', e]);
    const oks = [];
    for (let i = 0; i < events.length + forged.length; i++) oks.push(await c.next((m) => m[0] === 'OK'));
    expect(oks.filter((m) => m[2] === true).length).toBe(events.length);
    expect(oks.filter((m) => m[2] === false).every((m) => String(m[3]).startsWith('invalid:'))).toBe(true);
    expect(r.relay.store.size()).toBe(events.length);
  });

  it('answers each connection in arrival order when checked batches are committed together', async () => {
    const r = await start({ verifyThreads: 2, limits: { eventsPerSecond: 0 } });
    await waitFor(() => (r.relay.verifier.readyWorkers > 0 ? true : undefined), 20_000, 'workers');
    const a = await RawClient.connect(r.url);
    const b = await RawClient.connect(r.url);
    clients.push(a, b);
    const sent = new Map<RawClient, Array<{ id: string; accepted: boolean }>>([[a, []], [b, []]]);
    // Several frames per connection per turn, in many turns: many batches, some valid, some forged, one duplicate.
    for (let turn = 0; turn < 12; turn++) {
      for (const [c, who] of [[a, alice], [b, bob]] as const) {
        for (let k = 0; k < 15; k++) {
          const e = sign(who, { kind: 1, created_at: T0 + turn * 100 + k, content: `turn ${turn} ${k}` });
          const forged = k % 7 === 3;
          const event = forged ? { ...e, content: `${e.content}?` } : e;
          c.send(['EVENT', event]);
          sent.get(c)?.push({ id: event.id, accepted: !forged });
          if (k === 5 && turn === 4) {
            c.send(['EVENT', e]); // the same event again: duplicate, still true
            sent.get(c)?.push({ id: e.id, accepted: true });
          }
        }
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const [c, expected] of sent) {
      const oks = [];
      for (let i = 0; i < expected.length; i++) oks.push(await c.next((m) => m[0] === 'OK', 20_000));
      expect(oks.map((m) => [m[1], m[2]])).toEqual(expected.map((x) => [x.id, x.accepted]));
    }
    await r.relay.drain();
    expect(r.relay.store.size()).toBe([...sent.values()].flat().filter((x) => x.accepted).length - 2);
  });
});
