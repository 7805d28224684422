import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RuntimeFixture, inbound, owner, stranger, waitFor } from './helpers.js';

describe('runtime: DM policy and per-sender rate limits', () => {
  let fx: RuntimeFixture;
  beforeEach(() => {
    fx = new RuntimeFixture();
  });
  afterEach(async () => {
    await fx.close();
  });

  it('assistant defaults to owner-only: strangers are refused (recorded without their text), the owner is answered', async () => {
    const runtime = await fx.runtime();
    const agent = await fx.agent(runtime, 'a1', 'assistant');
    const mallory = stranger(0x3e);
    const refused: string[] = [];
    runtime.events.on('inbound.refused', (e) => refused.push(e.reason));
    const msg = inbound(agent, mallory, 'remember my secret');
    await runtime.deliver(msg);
    await runtime.deliver(inbound(agent, owner, 'help'));
    await waitFor('owner answered', async () => (await fx.dmsTo(owner, agent)).length === 1);
    expect(await fx.dmsTo(mallory)).toEqual([]);
    expect(refused).toEqual(['policy: owner-only']);
    const row = fx.storage.db.prepare('SELECT status, reason, payload_json FROM inbox WHERE event_id = ?').get(msg.eventId) as { status: string; reason: string; payload_json: string };
    expect(row).toMatchObject({ status: 'refused', reason: 'policy: owner-only' });
    expect(row.payload_json).not.toContain('secret');
    const all = await fx.storage.ticks.list(agent.index);
    expect(all.every((t) => t.trigger.from !== mallory.getPublicKey())).toBe(true);
  });

  it('allowlist lets listed senders (and the owner) in; open lets anyone in', async () => {
    const runtime = await fx.runtime();
    const friend = stranger(0xf1);
    const other = stranger(0x07);
    const agent = await fx.agent(runtime, 'al', 'echo', { dmPolicy: 'allowlist', allowlist: [friend.getPublicKey()] });
    await runtime.deliver(inbound(agent, other, 'no'));
    await runtime.deliver(inbound(agent, friend, 'yes'));
    await runtime.deliver(inbound(agent, owner, 'me'));
    await waitFor('two answers', async () => (await fx.dmsTo(friend)).length === 1 && (await fx.dmsTo(owner, agent)).length === 1);
    await runtime.idle();
    expect(await fx.dmsTo(other)).toEqual([]);
    await expect(runtime.create({ name: 'bad', behavior: 'echo', config: { dmPolicy: 'friends' } })).rejects.toThrow(/dmPolicy/);
  });

  it('rate-limits each sender with a token bucket and says "slow down" at most once per window', async () => {
    const runtime = await fx.runtime();
    const agent = await fx.agent(runtime, 'rl', 'echo', { rateLimit: { capacity: 2, windowMs: 60_000 } });
    const alice = stranger(0xa1);
    const bob = stranger(0xb2);
    for (let i = 1; i <= 5; i++) await runtime.deliver(inbound(agent, alice, `a${i}`));
    await runtime.deliver(inbound(agent, bob, 'b1'));
    await waitFor('answers', async () => (await fx.dmsTo(alice)).length === 3 && (await fx.dmsTo(bob)).length === 1);
    await runtime.idle();
    const texts = await fx.dmsTo(alice);
    expect(texts.slice(0, 2)).toEqual(['echo: a1', 'echo: a2']);
    expect(texts[2]).toMatch(/slow down/);
    expect(texts).toHaveLength(3);
    expect((await fx.storage.ticks.list(agent.index)).filter((t) => t.outcome === 'refused')).toHaveLength(1);

    await fx.clock.advance(60_000);
    await runtime.deliver(inbound(agent, alice, 'a6'));
    await waitFor('answered after the window', async () => (await fx.dmsTo(alice)).length === 4);
    expect((await fx.dmsTo(alice))[3]).toBe('echo: a6');
  });
});
