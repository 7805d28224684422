import { join } from 'node:path';
import NDK, { NDKEvent, NDKPrivateKeySigner, giftUnwrap, giftWrap } from '@nostr-dev-kit/ndk';
import * as ntNip17 from 'nostr-tools/nip17';
import { afterEach, describe, expect, it } from 'vitest';
import type { NostrEvent } from '../../src/protocol/event.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import { buildReply } from '../../src/relay/reply.js';
import { InboxSubscriptions } from '../../src/relay/subscription-manager.js';
import type { InboundMessage } from '../../src/relay/types.js';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';
import { openDatabase } from '../../src/storage/sqlite/database.js';
import { Fixture, signerOf, waitFor } from './helpers.js';

const fx = new Fixture();
afterEach(() => fx.cleanup());

const agent = signerOf(0x41);
const toolsKey = hexToBytes('42'.repeat(32));
const ndkKeyHex = '43'.repeat(32);

describe('interop with nostr-tools and NDK', () => {
  it('receives NIP-17 DMs built by nostr-tools and by NDK, and both can read the replies', async () => {
    const relay = await fx.relay();
    const db = openDatabase(join(fx.tempDir(), 'a.db'));
    fx.onClose(() => db.close());
    const got: InboundMessage[] = [];
    const pool = new WsRelayPool({ backoff: { initialMs: 100, jitter: 0 }, pingIntervalMs: 0 });
    fx.onClose(() => pool.close());
    const inbox = new InboxSubscriptions({ pool, storage: new SqliteAgentStorage(db), relays: [relay.url], sink: async (m) => void got.push(m), relayLimits: async () => undefined });
    inbox.addAgent(agent);
    await inbox.start();
    fx.onClose(() => inbox.stop());

    // nostr-tools: its own nip17 wrapEvent.
    const fromTools = ntNip17.wrapEvent(toolsKey, { publicKey: agent.getPublicKey() }, 'hola from nostr-tools', 'tools subject') as NostrEvent;
    // NDK: a kind 14 rumor gift-wrapped with NDK's giftWrap.
    const ndk = new NDK();
    const ndkSigner = new NDKPrivateKeySigner(ndkKeyHex);
    const ndkUser = await ndkSigner.user();
    const rumor = new NDKEvent(ndk, { kind: 14, content: 'hello from NDK', tags: [['p', agent.getPublicKey()]], pubkey: ndkUser.pubkey, created_at: Math.floor(Date.now() / 1000) });
    const fromNdk = (await giftWrap(rumor, ndk.getUser({ pubkey: agent.getPublicKey() }), ndkSigner)).rawEvent() as NostrEvent;

    for (const wrap of [fromTools, fromNdk]) expect((await pool.publish(wrap, { relays: [relay.url] }))[0]).toMatchObject({ ok: true });
    await waitFor('both DMs', () => got.length === 2);
    const tools = got.find((m) => m.text === 'hola from nostr-tools')!;
    const viaNdk = got.find((m) => m.text === 'hello from NDK')!;
    expect(tools).toMatchObject({ protocol: 'nip17', subject: 'tools subject', eventId: fromTools.id });
    expect(viaNdk).toMatchObject({ protocol: 'nip17', sender: ndkUser.pubkey, eventId: fromNdk.id });

    // Replies: nostr-tools unwraps ours with its own nip17.unwrapEvent; NDK with giftUnwrap.
    const [toolsReply] = buildReply(tools, 'reply for tools', agent);
    const opened = ntNip17.unwrapEvent(toolsReply!.event, toolsKey);
    expect(opened).toMatchObject({ kind: 14, content: 'reply for tools', pubkey: agent.getPublicKey() });
    expect(opened.tags).toContainEqual(['subject', 'tools subject']);
    expect(opened.tags.find((t) => t[0] === 'e')?.[1]).toBe(tools.rumorId);

    const [ndkReply] = buildReply(viaNdk, 'reply for ndk', agent);
    const unwrapped = await giftUnwrap(new NDKEvent(ndk, ndkReply!.event), undefined, ndkSigner);
    expect(unwrapped.content).toBe('reply for ndk');
    expect(unwrapped.pubkey).toBe(agent.getPublicKey());
    expect(unwrapped.tags.find((t) => t[0] === 'e')?.[1]).toBe(viaNdk.rumorId);
  });
});
