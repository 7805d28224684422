/** RelayConnection subscriptions against relay-dev: a re-sent REQ is answered by its own EOSE. */
import { afterEach, describe, expect, it } from 'vitest';
import { finalizeEvent, getPublicKey } from '../../src/protocol/crypto.js';
import type { Filter } from '../../src/protocol/filter.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { newConnectionCounters, RelayConnection } from '../../src/relay/relay-connection.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import { Fixture, waitFor } from './helpers.js';

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
