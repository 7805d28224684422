import { afterEach, describe, expect, it } from 'vitest';
import { OwnerChat } from '../../src/cli/owner-chat.js';
import { Kind } from '../../src/protocol/kinds.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import { Fixture, signerOf, waitFor } from '../relay/helpers.js';

const owner = signerOf(0x31);
const agent = signerOf(0x32);

describe('OwnerChat', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('sends the wrap through a real relay and returns the id of the rumor the agent opens; the agent reply arrives threaded', async () => {
    const relay = await fx.relay();
    const chat = new OwnerChat({ owner, relays: [relay.url] });
    fx.onClose(() => chat.close());
    // Gift wraps are read by their recipient only (relay-dev asks for AUTH): the pool answers as the agent.
    const pool = new WsRelayPool({ relays: [relay.url] });
    pool.addAuthSigner(agent);
    fx.onClose(() => pool.close());
    await chat.ready;
    const peer = { publicKey: agent.getPublicKey(), relays: [relay.url], name: 'agent' };

    const sent = await chat.send(peer, 'hello agent');
    expect(sent.accepted).toEqual([relay.url]);
    const wraps = await pool.fetch([{ kinds: [Kind.GiftWrap], '#p': [agent.getPublicKey()] }]);
    expect(wraps).toHaveLength(1);
    const opened = unwrapGift(wraps[0]!, agent);
    expect(opened.ok && opened.rumor.content).toBe('hello agent');
    expect(opened.ok && opened.rumor.id).toBe(sent.id);

    // The agent answers that rumor: the owner sees it as a reply to what it sent (its own copy is not shown).
    const got: Array<{ text: string; replyTo?: string }> = [];
    chat.onMessage((from, message) => {
      if (from === agent.getPublicKey()) got.push({ text: message.text, ...(message.replyTo ? { replyTo: message.replyTo } : {}) });
    });
    for (const o of buildDirectMessage(agent, owner.getPublicKey(), 'echo: hello agent', { replyTo: { id: sent.id } })) await pool.publish(o.event);
    await waitFor('the reply', () => got.length > 0);
    expect(got).toEqual([{ text: 'echo: hello agent', replyTo: sent.id }]);
  });
});
