import { describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { parseChatRumor } from '../../src/protocol/nip17.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';

const signer = (byte: number): SecretKeySigner => new SecretKeySigner(new Uint8Array(32).fill(byte));

describe('SecretKeySigner conversation keys', () => {
  it('does not keep the one-off keys of the gift wraps it opens, and keeps the keys of the peers it answers', async () => {
    await loadFastCrypto();
    const agent = signer(7);
    const peers = [signer(1), signer(2)];
    for (let n = 0; n < 40; n++) {
      const peer = peers[n % 2]!;
      // Each wrap is encrypted from a fresh one-off key; the seal inside is the peer's.
      const wrap = buildDirectMessage(peer, agent.getPublicKey(), `dm ${n}`)[0]!.event;
      const opened = unwrapGift(wrap, agent);
      expect(opened.ok && parseChatRumor(opened.rumor).text).toBe(`dm ${n}`);
      // The agent answers: its reply is sealed to the peer, and its own copy to itself.
      const reply = buildDirectMessage(agent, peer.getPublicKey(), `echo: dm ${n}`);
      const back = unwrapGift(reply[0]!.event, peer);
      expect(back.ok && parseChatRumor(back.rumor).text).toBe(`echo: dm ${n}`);
    }
    // The two peers and itself: none of the 40 one-off keys.
    expect(agent.cachedConversationKeys).toBe(3);
  });

  it('keeps the key of a peer it only hears from, from the second message on', async () => {
    await loadFastCrypto();
    const listener = signer(9);
    const peer = signer(3);
    for (let n = 0; n < 10; n++) {
      const opened = unwrapGift(buildDirectMessage(peer, listener.getPublicKey(), `note ${n}`)[0]!.event, listener);
      expect(opened.ok).toBe(true);
    }
    expect(listener.cachedConversationKeys).toBe(1);
  });
});
