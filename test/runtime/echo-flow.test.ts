import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RuntimeEvent } from '../../src/runtime/events.js';
import { RuntimeFixture, inbound, owner, stranger, waitFor } from './helpers.js';

describe('runtime: a DM in, a reply out (echo over real SQLite and real crypto)', () => {
  let fx: RuntimeFixture;
  beforeEach(() => {
    fx = new RuntimeFixture();
  });
  afterEach(async () => {
    await fx.close();
  });

  it('answers a NIP-17 DM with a NIP-17 reply wrapped to the sender and to itself, in one commit with the tick record', async () => {
    const runtime = await fx.runtime();
    const events: RuntimeEvent[] = [];
    runtime.events.subscribe((e) => events.push(e));
    const agent = await fx.agent(runtime, 'echo1', 'echo');
    const alice = stranger(0xa1);
    const msg = inbound(agent, alice, 'hello there');
    await runtime.deliver(msg);
    await waitFor('reply', async () => (await fx.dmsTo(alice)).length === 1);

    expect(await fx.dmsTo(alice)).toEqual(['echo: hello there']);
    const rumor = (await fx.rumorsTo(alice))[0]!;
    expect(rumor.pubkey).toBe(agent.pubkey);
    expect(rumor.tags).toContainEqual(['p', alice.getPublicKey()]);
    expect(rumor.tags.find((t) => t[0] === 'e')?.[1]).toBe(msg.rumorId);
    // The copy to itself: a wrap the agent can open with its own key.
    const own = (await fx.outbox(agent)).filter((e) => e.target.type === 'own');
    expect(own).toHaveLength(1);

    const ticks = await fx.storage.ticks.list(agent.index);
    const tick = ticks[ticks.length - 1]!;
    expect(tick).toMatchObject({ outcome: 'ok', trigger: { type: 'dm', from: alice.getPublicKey(), text: 'hello there' } });
    expect(tick.steps.map((s) => s.type)).toEqual(['perceive', 'think', 'message']);
    expect(tick.sentEventIds.sort()).toEqual((await fx.outbox(agent)).filter((e) => tick.sentEventIds.includes(e.eventId)).map((e) => e.eventId).sort());
    expect(tick.sentEventIds).toHaveLength(2);
    expect(await fx.storage.inbox.pending(agent.index)).toHaveLength(0);
    expect((await fx.storage.conversations(agent.index).history(alice.getPublicKey())).map((m) => [m.direction, m.text])).toEqual([
      ['in', 'hello there'],
      ['out', 'echo: hello there'],
    ]);
    expect(await fx.storage.peers(agent.index).get(alice.getPublicKey())).toMatchObject({ messageCount: 1 });
    const types = events.map((e) => e.type);
    expect(types).toContain('tick.started');
    expect(types).toContain('tick.step');
    expect(types.filter((t) => t === 'tick.finished').length).toBeGreaterThanOrEqual(1);

    // A replay of the same event (another relay, a reconnect) is not a second trigger.
    await runtime.deliver(msg);
    await runtime.idle();
    expect(await fx.dmsTo(alice)).toHaveLength(1);
  });

  it('answers NIP-04 with NIP-04 and a mention with a kind 1 reply carrying NIP-10 markers', async () => {
    const runtime = await fx.runtime();
    const agent = await fx.agent(runtime, 'echo2', 'echo');
    const bob = stranger(0xb2);
    await runtime.deliver(inbound(agent, bob, 'legacy hi', { protocol: 'nip04' }));
    const rootId = 'ab'.repeat(32);
    const mention = inbound(agent, bob, 'hey nostr:npub1xyz', { kind: 'mention', protocol: 'note' });
    // As the receiver builds it for a mention that is itself a reply in a thread: the parent event comes along.
    const parentEvent = { id: mention.eventId, pubkey: bob.getPublicKey(), kind: 1, tags: [['e', rootId, '', 'root'], ['p', owner.getPublicKey()]] };
    mention.replyTo = { parentId: mention.eventId, participants: [bob.getPublicKey(), owner.getPublicKey()], rootId, parentEvent };
    await runtime.deliver(mention);
    await waitFor('two replies', async () => (await fx.plainEvents(agent)).length === 2);

    const [note, nip04] = (await fx.plainEvents(agent)).sort((a, b) => a.kind - b.kind);
    expect(note!.kind).toBe(1);
    expect(nip04!.kind).toBe(4);
    expect(bob.nip04.decrypt(agent.pubkey, nip04!.content)).toBe('echo: legacy hi');
    expect(nip04!.tags).toContainEqual(['p', bob.getPublicKey()]);
    expect(note!.content).toBe('echo: hey nostr:npub1xyz');
    expect(note!.tags.find((t) => t[0] === 'e' && t[3] === 'root')?.[1]).toBe(rootId);
    expect(note!.tags.find((t) => t[3] === 'reply')?.[1]).toBe(mention.eventId);
    expect(note!.tags).toContainEqual(['p', bob.getPublicKey()]);
    expect(note!.tags).toContainEqual(['p', owner.getPublicKey()]);
  });
});
