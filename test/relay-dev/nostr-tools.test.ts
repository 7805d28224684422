/** Conformance driven by nostr-tools' own relay client (AbstractRelay), as third-party software sees us. */
import { makeAuthEvent } from 'nostr-tools/nip42';
import { finalizeEvent as ntFinalize } from 'nostr-tools/pure';
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay';
import WebSocket from 'ws';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RunningRelay } from '../../relay-dev/index.js';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { alice, bob, carol, sign, T0, waitFor } from './fixtures.js';

useWebSocketImplementation(WebSocket);

/** nostr-tools marks verified events with a symbol; compare the wire fields only. */
function plain(e: object): NostrEvent {
  return JSON.parse(JSON.stringify(e)) as NostrEvent;
}

let running: RunningRelay | undefined;
const clients: Relay[] = [];

async function connect(): Promise<Relay> {
  const relay = await Relay.connect(running!.url);
  clients.push(relay);
  return relay;
}

beforeAll(async () => {
  await loadFastCrypto();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await running?.close();
  running = undefined;
});

describe('nostr-tools Relay against relay-dev', () => {
  it('publishes, subscribes (stored, EOSE, live), counts and sees refusals', async () => {
    running = await startRelay({ verifyThreads: 0 });
    const writer = await connect();
    const reader = await connect();
    const first = sign(alice, { kind: 1, created_at: T0, content: 'first' });
    expect(await writer.publish(first)).toBe('');
    await expect(writer.publish(first)).resolves.toMatch(/^duplicate:/);
    await expect(writer.publish({ ...first, id: sign(alice, { kind: 1, content: 'other' }).id })).rejects.toThrow(/^invalid:/);

    const received: NostrEvent[] = [];
    let eose = false;
    const sub = reader.subscribe([{ kinds: [1], authors: [alice.pk] }], {
      onevent: (e) => received.push(plain(e)),
      oneose: () => {
        eose = true;
      },
    });
    await waitFor(() => (eose ? true : undefined), 10_000, 'EOSE');
    expect(received).toEqual([first]);
    const second = sign(alice, { kind: 1, created_at: T0 + 1, content: 'second' });
    await writer.publish(second);
    await waitFor(() => (received.length === 2 ? true : undefined), 10_000, 'live event');
    expect(received[1]).toEqual(second);
    sub.close();

    expect(await reader.count([{ authors: [alice.pk] }], {})).toBe(2);
    await expect(reader.count([{ kinds: [1059] }], {})).rejects.toThrow(/^auth-required:/);
  });

  it('authenticates with NIP-42 and reads its gift wraps, after CLOSED auth-required', async () => {
    running = await startRelay({ verifyThreads: 0 });
    const writer = await connect();
    const wrap = sign(carol, { kind: 1059, tags: [['p', bob.pk]], content: 'sealed' });
    await writer.publish(wrap);

    const bobRelay = await connect();
    let closedReason = '';
    bobRelay.subscribe([{ kinds: [1059], '#p': [bob.pk] }], { onclose: (reason) => (closedReason = reason) });
    await waitFor(() => (closedReason ? true : undefined), 10_000, 'CLOSED');
    expect(closedReason).toMatch(/^auth-required:/);

    await bobRelay.auth(async (template) => ntFinalize(template, bob.sk));
    const got: NostrEvent[] = [];
    let eose = false;
    bobRelay.subscribe([{ kinds: [1059], '#p': [bob.pk] }], {
      onevent: (e) => got.push(plain(e)),
      oneose: () => (eose = true),
    });
    await waitFor(() => (eose ? true : undefined), 10_000, 'EOSE');
    expect(got).toEqual([wrap]);

    const protectedNote = sign(bob, { kind: 1, tags: [['-']], content: 'mine only' });
    await expect(writer.publish(protectedNote)).rejects.toThrow(/^auth-required:/);
    expect(await bobRelay.publish(protectedNote)).toBe('');
    expect(makeAuthEvent(running.url, 'x').kind).toBe(22242);
  });
});
