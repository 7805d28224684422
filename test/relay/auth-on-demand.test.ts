import { afterEach, describe, expect, it } from 'vitest';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { AUTH_BATCH } from '../../src/relay/relay-auth.js';
import { Fixture, signerOf, waitFor } from './helpers.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { hexToBytes } from '../../src/protocol/hex.js';

const fx = new Fixture();
afterEach(() => fx.cleanup());

function pool(relays: string[]): WsRelayPool {
  const p = new WsRelayPool({ relays, backoff: { initialMs: 100, maxMs: 1000, jitter: 0 }, pingIntervalMs: 0 });
  fx.onClose(() => p.close());
  return p;
}

/** Distinct fixed keys beyond what signerOf's single byte gives. */
function keyOf(n: number): SecretKeySigner {
  return new SecretKeySigner(hexToBytes((n + 1).toString(16).padStart(8, '0').repeat(8)));
}

describe('NIP-42 on demand', () => {
  it('does not answer a challenge from a relay that restricts nothing: no key signs an AUTH', async () => {
    const r = await fx.relay({ privateKinds: [] });
    const agents = [signerOf(0x21), signerOf(0x22), signerOf(0x23)];
    const alice = signerOf(0x24);
    const sender = pool([r.url]);
    for (const agent of agents) expect((await sender.publish(buildDirectMessage(alice, agent.getPublicKey(), 'hi')[0]!.event))[0]).toMatchObject({ ok: true });
    const p = pool([r.url]);
    p.addAuthSigners(agents);
    // The relay challenges on connect; an AUTH sent then would reach it before this REQ.
    const got = await p.fetch([{ kinds: [1059], '#p': agents.map((a) => a.getPublicKey()) }]);
    expect(got).toHaveLength(3);
    expect([...r.relay.connections].every((c) => c.authed.size === 0)).toBe(true);
    expect(p.status()[0]?.authenticated).toEqual([]);
  });

  it('authenticates hundreds of keys in batches when the relay restricts gift wraps, and each gets its own', async () => {
    const r = await fx.relay();
    const count = AUTH_BATCH * 2 + 50;
    const agents = Array.from({ length: count }, (_, i) => keyOf(i));
    const alice = signerOf(0x31);
    const sender = pool([r.url]);
    await Promise.all(agents.map(async (agent) => expect((await sender.publish(buildDirectMessage(alice, agent.getPublicKey(), `for ${agent.getPublicKey()}`)[0]!.event))[0]).toMatchObject({ ok: true })));
    const p = pool([r.url]);
    p.addAuthSigners(agents);
    await waitFor('every key authenticated', () => p.status()[0]?.authenticated.length === count);
    const got = await p.fetch([{ kinds: [1059], '#p': agents.map((a) => a.getPublicKey()) }]);
    expect(new Set(got.map((e) => e.tags.find((t) => t[0] === 'p')?.[1]))).toEqual(new Set(agents.map((a) => a.getPublicKey())));
  });
});
