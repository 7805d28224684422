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

  it("keeps the owner's own copy of every part (NIP-17's copy to the sender) on the relay once send resolves", async () => {
    const relay = await fx.relay();
    const chat = new OwnerChat({ owner, relays: [relay.url] });
    fx.onClose(() => chat.close());
    const ownerPool = new WsRelayPool({ relays: [relay.url] });
    ownerPool.addAuthSigner(owner);
    fx.onClose(() => ownerPool.close());
    const agentPool = new WsRelayPool({ relays: [relay.url] });
    agentPool.addAuthSigner(agent);
    fx.onClose(() => agentPool.close());
    await chat.ready;
    const peer = { publicKey: agent.getPublicKey(), relays: [relay.url], name: 'agent' };

    // Long enough for two gift wraps: each part has its wrap to the agent and its own copy.
    const text = 'a'.repeat(50_000) + ' ' + 'b'.repeat(50_000);
    const sent = await chat.send(peer, text);
    const open = (wraps: Awaited<ReturnType<WsRelayPool['fetch']>>, who: typeof owner) => wraps.map((w) => unwrapGift(w, who)).map((o) => (o.ok ? { id: o.rumor.id, content: o.rumor.content, author: o.rumor.pubkey, at: o.rumor.created_at } : undefined));
    const toAgent = open(await agentPool.fetch([{ kinds: [Kind.GiftWrap], '#p': [agent.getPublicKey()] }]), agent);
    const own = open(await ownerPool.fetch([{ kinds: [Kind.GiftWrap], '#p': [owner.getPublicKey()] }]), owner);
    expect(toAgent.length).toBeGreaterThan(1);
    const byId = (xs: typeof own) => [...xs].sort((a, b) => (a!.id < b!.id ? -1 : 1));
    expect(byId(own)).toEqual(byId(toAgent));
    expect(own.every((o) => o?.author === owner.getPublicKey())).toBe(true);
    expect(own.map((o) => o!.id)).toContain(sent.id);
  });
});
