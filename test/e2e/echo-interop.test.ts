/**
 * An echo agent run by the real daemon (`agent run`) answers DMs built by independent clients
 * (nostr-tools' nip17, NDK's giftWrap) and a mention, through relay-dev on loopback.
 */
import NDK, { NDKEvent, NDKPrivateKeySigner, giftUnwrap, giftWrap } from '@nostr-dev-kit/ndk';
import * as ntNip17 from 'nostr-tools/nip17';
import { afterAll, describe, expect, it } from 'vitest';
import { finalizeEvent, loadFastCrypto } from '../../src/protocol/crypto.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, startTestRelay, stopAll, tempHome, testPool } from '../helpers/daemon.js';
import { relayMode } from '../helpers/relay-modes.js';

afterAll(stopAll);

const toolsKey = hexToBytes('42'.repeat(32));
const ndkKeyHex = '43'.repeat(32);
const noteKey = hexToBytes('44'.repeat(32));

// The full mode matrix runs in-process (test/relay) and in relay-modes.test.ts; here the hardest habit: strfry's.
describe.each([relayMode('strfry')])('echo agent through the daemon ($name)', ({ options }) => {
  it('answers nostr-tools and NDK NIP-17 DMs with "echo: <text>" and a mention with a NIP-10 reply', async () => {
    await loadFastCrypto();
    const relay = await startTestRelay(options);
    const home = tempHome({ relays: [relay.url] });
    const env = { AGENT_MNEMONIC: TEST_MNEMONIC };
    const created = await runCli(['create', 'echo', '--behavior', 'echo', '--home', home, '--json'], { env });
    expect(created.code).toBe(0);
    const agentPubkey: string = JSON.parse(created.stdout).publicKey;
    const daemon = startCli(['run', '--home', home], env);
    await daemon.waitFor(/daemon ready/);

    // Independent clients build the DMs; our pools only carry them (and AUTH as their keys to read wraps:
    // one pool per key, as one phone is one key, since this relay takes one key per connection).
    const toolsSigner = new SecretKeySigner(toolsKey);
    const ndkSignerOurs = new SecretKeySigner(hexToBytes(ndkKeyHex));
    const pool = testPool(relay.url, [toolsSigner]);
    const ndkPool = testPool(relay.url, [ndkSignerOurs]);
    const fromTools = ntNip17.wrapEvent(toolsKey, { publicKey: agentPubkey }, 'hola from nostr-tools') as NostrEvent;
    const ndk = new NDK();
    const ndkSigner = new NDKPrivateKeySigner(ndkKeyHex);
    const ndkUser = await ndkSigner.user();
    const rumor = new NDKEvent(ndk, { kind: 14, content: 'hello from NDK', tags: [['p', agentPubkey]], pubkey: ndkUser.pubkey, created_at: Math.floor(Date.now() / 1000) });
    const fromNdk = (await giftWrap(rumor, ndk.getUser({ pubkey: agentPubkey }), ndkSigner)).rawEvent() as NostrEvent;
    for (const wrap of [fromTools, fromNdk]) expect((await pool.publish(wrap))[0]).toMatchObject({ ok: true });

    const toolsReply = await eventually(async () => {
      const wraps = await pool.fetch([{ kinds: [1059], '#p': [toolsSigner.getPublicKey()] }]);
      return wraps.map((w) => ntNip17.unwrapEvent(w, toolsKey)).find((r) => r.pubkey === agentPubkey);
    }, 30_000, 'the reply to nostr-tools');
    expect(toolsReply.content).toBe('echo: hola from nostr-tools');
    const ndkReply = await eventually(async () => {
      const wraps = await ndkPool.fetch([{ kinds: [1059], '#p': [ndkUser.pubkey] }]);
      for (const w of wraps) {
        const opened = await giftUnwrap(new NDKEvent(ndk, w), undefined, ndkSigner);
        if (opened.pubkey === agentPubkey) return opened;
      }
      return undefined;
    }, 30_000, 'the reply to NDK');
    expect(ndkReply.content).toBe('echo: hello from NDK');

    // A mention: kind 1 with a p tag, itself a reply in a thread (so the agent must keep the root).
    const root = finalizeEvent({ kind: 1, created_at: Math.floor(Date.now() / 1000) - 5, tags: [], content: 'thread root' }, noteKey);
    const mention = finalizeEvent(
      { kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [['e', root.id, relay.url, 'root'], ['p', agentPubkey]], content: 'hey agent, ping' },
      noteKey,
    );
    for (const e of [root, mention]) expect((await pool.publish(e))[0]).toMatchObject({ ok: true });
    const reply = await eventually(async () => (await pool.fetch([{ kinds: [1], authors: [agentPubkey] }]))[0], 30_000, 'the mention reply');
    expect(reply.content).toBe('echo: hey agent, ping');
    expect(reply.tags).toContainEqual(expect.arrayContaining(['e', root.id, expect.any(String), 'root']));
    expect(reply.tags).toContainEqual(expect.arrayContaining(['e', mention.id, expect.any(String), 'reply']));
    expect(reply.tags).toContainEqual(expect.arrayContaining(['p', mention.pubkey]));

    // Each message got exactly one answer.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await pool.fetch([{ kinds: [1], authors: [agentPubkey] }])).toHaveLength(1);
    expect(await daemon.stop('SIGTERM')).toBe(0);
    expect(daemon.stderr()).toMatch(/\[tick\] echo #\d+ dm → ok/);
    expect(daemon.stderr()).toMatch(/\[tick\] echo #\d+ mention → ok/);
  });
});
