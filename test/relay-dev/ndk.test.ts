/** Interop with @nostr-dev-kit/ndk: publish, fetch and live subscription, and NIP-42 sign-in for gift wraps. */
import NDK, { NDKEvent, NDKPrivateKeySigner, NDKRelayAuthPolicies, type NDKFilter } from '@nostr-dev-kit/ndk';
import WebSocket from 'ws';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RunningRelay } from '../../relay-dev/index.js';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { bytesToHex } from '../../src/protocol/hex.js';
import { alice, bob, carol, sign, T0, waitFor } from './fixtures.js';

// NDK uses the global WebSocket, which Node 20 does not have.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

let running: RunningRelay | undefined;
const ndks: NDK[] = [];

async function ndkFor(sk: Uint8Array, signIn = false): Promise<NDK> {
  // Loopback only: no outbox model (it would dial public relays), no user relay discovery.
  const ndk = new NDK({
    explicitRelayUrls: [running!.url],
    signer: new NDKPrivateKeySigner(bytesToHex(sk)),
    enableOutboxModel: false,
    autoConnectUserRelays: false,
  });
  if (signIn) ndk.relayAuthDefaultPolicy = NDKRelayAuthPolicies.signIn({ ndk });
  ndks.push(ndk);
  await ndk.connect(5000);
  await waitFor(() => (ndk.pool.connectedRelays().length > 0 ? true : undefined), 10_000, 'NDK connection');
  return ndk;
}

beforeAll(async () => {
  await loadFastCrypto();
});
afterEach(async () => {
  for (const ndk of ndks.splice(0)) for (const r of ndk.pool.relays.values()) r.disconnect();
  await running?.close();
  running = undefined;
});

describe('NDK against relay-dev', () => {
  it('publishes, fetches and receives live events', async () => {
    running = await startRelay({ verifyThreads: 0 });
    const ndk = await ndkFor(alice.sk);
    const live: NDKEvent[] = [];
    const sub = ndk.subscribe({ kinds: [1], authors: [alice.pk] } as NDKFilter, { closeOnEose: false });
    sub.on('event', (e: NDKEvent) => live.push(e));

    const note = new NDKEvent(ndk, { kind: 1, content: 'hello from NDK', tags: [['t', 'interop']] } as never);
    const published = await note.publish();
    expect(published.size).toBe(1);
    expect(running.relay.store.get(note.id!)?.content).toBe('hello from NDK');
    await waitFor(() => (live.some((e) => e.id === note.id) ? true : undefined), 10_000, 'live event');

    const fetched = await ndk.fetchEvents({ kinds: [1], '#t': ['interop'] } as NDKFilter);
    expect([...fetched].map((e) => e.id)).toEqual([note.id]);
    sub.stop();
  });

  it('signs in with NIP-42 when challenged and reads gift wraps addressed to it', async () => {
    running = await startRelay({ verifyThreads: 0 });
    const wrap = sign(carol, { kind: 1059, created_at: T0, tags: [['p', bob.pk]], content: 'sealed for bob' });
    expect(running.relay.store.save(wrap)).toBe('saved');
    const ndk = await ndkFor(bob.sk, true);
    await waitFor(() => ([...running!.relay.connections].some((c) => c.authed.has(bob.pk)) ? true : undefined), 10_000, 'AUTH');
    const fetched = await ndk.fetchEvents({ kinds: [1059], '#p': [bob.pk] } as NDKFilter);
    expect([...fetched].map((e) => e.id)).toEqual([wrap.id]);
  });
});
