/**
 * RelayConnection subscriptions against relay-dev: a re-sent REQ is answered by its own EOSE; restricted
 * kinds are asked for apart and after AUTH; one-key-per-connection relays are learned and served by lanes.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { finalizeEvent, getPublicKey } from '../../src/protocol/crypto.js';
import type { Filter } from '../../src/protocol/filter.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import type { RunningRelay } from '../../relay-dev/index.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { newConnectionCounters, RelayConnection } from '../../src/relay/relay-connection.js';
import { WsRelayPool, type WsRelayPoolOptions } from '../../src/relay/relay-pool.js';
import type { Signer } from '../../src/signer/types.js';
import { ArrayLogger } from '../../src/util/logger.js';
import { Fixture, signerOf, waitFor } from './helpers.js';

const fx = new Fixture();
afterEach(() => fx.cleanup());

const key = hexToBytes('41'.repeat(32));

describe('RelayConnection subscriptions', () => {
  it('a REQ re-sent before the first was answered ends at its own EOSE; the replaced one is ignored', async () => {
    const relay = await fx.relay();
    const sender = new WsRelayPool({ relays: [relay.url], pingIntervalMs: 0 });
    fx.onClose(() => sender.close());
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 6; i++) {
      const note = finalizeEvent({ kind: 1, created_at: now - i, tags: [], content: `stored ${i}` }, key);
      expect((await sender.publish(note))[0]).toMatchObject({ ok: true });
    }
    const counters = newConnectionCounters();
    const conn = new RelayConnection(relay.url, { pingIntervalMs: 0, counters });
    fx.onClose(() => conn.close());
    conn.connect();
    expect(await conn.waitConnected({ timeoutMs: 10_000 })).toBe(true);

    // The first REQ asks for 1 stored event, the re-sent one for all 6.
    let sends = 0;
    const filters = (): Filter[] => [{ kinds: [1], authors: [getPublicKey(key)], limit: sends++ === 0 ? 1 : 6 }];
    const seen = new Set<string>();
    const atEose: number[] = [];
    const handle = conn.subscribe('s', filters, { onEvent: (e) => seen.add(e.content), onEose: () => atEose.push(seen.size) });
    handle.refresh();
    await waitFor('EOSE', () => atEose.length > 0);
    expect(atEose).toEqual([6]);

    // A live event comes after anything the relay still had to say about the replaced REQ.
    const live = finalizeEvent({ kind: 1, created_at: now + 1, tags: [], content: 'live' }, key);
    await sender.publish(live);
    await waitFor('the live event', () => seen.has('live'));
    expect(atEose).toEqual([6]);
    expect(counters.unrequested).toBe(0);
    handle.close();
  });
});

describe('RelayConnection against relays with other AUTH habits', () => {
  const bob = signerOf(0x42);
  const carol = signerOf(0x43);
  const pool = (url: string, signers: Signer[], extra: WsRelayPoolOptions = {}): WsRelayPool => {
    const p = new WsRelayPool({ relays: [url], pingIntervalMs: 0, ...extra });
    for (const s of signers) p.addAuthSigner(s);
    fx.onClose(() => p.close());
    return p;
  };
  async function store(relay: RunningRelay, events: NostrEvent[]): Promise<void> {
    for (const e of events) expect(relay.relay.store.save(e)).toBe('saved');
  }
  const now = Math.floor(Date.now() / 1000);
  const wrapForBob = (): NostrEvent => carol.signEvent({ kind: 1059, created_at: now, tags: [['p', bob.getPublicKey()]], content: 'wrap' });
  const noteForBob = (): NostrEvent => carol.signEvent({ kind: 1, created_at: now, tags: [['p', bob.getPublicKey()]], content: 'note' });

  it('sends restricted kinds in a REQ of their own, so a strfry-like relay serves a mixed filter in full', async () => {
    const relay = await fx.relay({ auth: 'on-demand', withhold: 'mixed' });
    const wrap = wrapForBob();
    const note = noteForBob();
    await store(relay, [wrap, note]);
    const got = await pool(relay.url, [bob]).fetch([{ kinds: [1059, 1], '#p': [bob.getPublicKey()] }]);
    expect(got.map((e) => e.id).sort()).toEqual([wrap.id, note.id].sort());
  });

  it('does not take the empty answer of a withholding relay, sent before AUTH, for an empty inbox', async () => {
    const relay = await fx.relay({ withhold: 'all' });
    const wrap = wrapForBob();
    await store(relay, [wrap]);
    const got = await pool(relay.url, [bob]).fetch([{ kinds: [1059], '#p': [bob.getPublicKey()] }]);
    expect(got.map((e) => e.id)).toEqual([wrap.id]);
  });

  it('lets the answer through with a warning when a relay that restricts reads never sends a challenge', async () => {
    const relay = await fx.relay({ auth: 'on-demand', withhold: 'all' });
    await store(relay, [wrapForBob()]);
    const logger = new ArrayLogger();
    const got = await pool(relay.url, [bob], { logger, authWaitMs: 300 }).fetch([{ kinds: [1059], '#p': [bob.getPublicKey()] }]);
    expect(got).toEqual([]);
    expect(logger.records.some((r) => r.level === 'warn' && /restricts reads but AUTH did not complete/.test(r.msg))).toBe(true);
  });

  it('learns that a relay takes one key per connection; a lane authenticates the next key', async () => {
    const relay = await fx.relay({ authKeysPerConnection: 1 });
    const wrap = wrapForBob();
    await store(relay, [wrap]);
    const alice = signerOf(0x44);
    const p = pool(relay.url, [alice, bob]);
    const main = p.connection(relay.url)!;
    await waitFor('the key limit', () => main.status().authKeyLimit === 1);
    expect(main.status().authenticated).toEqual([alice.getPublicKey()]);
    expect([main.sharesAuth(alice.getPublicKey()), main.sharesAuth(bob.getPublicKey())]).toEqual([true, false]);
    // On the shared connection bob's wrap is not his to read; on his lane it is.
    expect(await p.fetch([{ kinds: [1059], '#p': [bob.getPublicKey()] }])).toEqual([]);
    const lane = p.lane(relay.url, bob);
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      const h = lane.subscribe('mine', () => [{ kinds: [1059], '#p': [bob.getPublicKey()] }], { onEvent: (e) => got.push(e.id), onEose: () => (h.close(), resolve()) });
    });
    expect(got).toEqual([wrap.id]);
    expect(lane.status().authenticated).toEqual([bob.getPublicKey()]);
    // The lane is a connection of its own.
    expect(relay.relay.connections.size).toBe(2);
  });

  it('a publish refused auth-required by an on-demand relay authenticates and is sent again', async () => {
    const relay = await fx.relay({ auth: 'on-demand' });
    const alice = signerOf(0x45);
    const p = pool(relay.url, [alice]);
    const own = alice.signEvent({ kind: 1, created_at: now, tags: [['-']], content: 'mine only' });
    expect((await p.publish(own))[0]).toMatchObject({ ok: true });
    expect(relay.relay.store.has(own.id)).toBe(true);
  });
});

describe('RelayConnection waiting for the socket', () => {
  it('answers many waiters false at close without a listener each on the connection (no MaxListeners warning)', async () => {
    // A TCP server that accepts and never answers the WebSocket handshake: the connection stays `connecting`.
    const held: Socket[] = [];
    const server = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fx.onClose(async () => {
      for (const s of held) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as AddressInfo).port;
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    fx.onClose(() => void process.off('warning', onWarning));

    const conn = new RelayConnection(`ws://127.0.0.1:${port}`, { pingIntervalMs: 0, connectTimeoutMs: 60_000 });
    conn.connect();
    await waitFor('the TCP connection', () => held.length > 0);
    expect(conn.status().state).toBe('connecting');
    const waiters = Array.from({ length: 50 }, () => conn.waitConnected({ timeoutMs: 60_000 }));
    await conn.close();
    expect(await Promise.all(waiters)).toEqual(Array.from({ length: 50 }, () => false));
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
  });
});
