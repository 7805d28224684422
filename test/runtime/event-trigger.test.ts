import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/behaviors/define-agent.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { RuntimeFixture, owner, stranger, waitFor } from './helpers.js';

describe('runtime: event triggers from watched filters, and manual pokes', () => {
  let fx: RuntimeFixture;
  const seen: NostrEvent[] = [];
  beforeEach(() => {
    fx = new RuntimeFixture();
    seen.length = 0;
    fx.define(
      defineAgent({
        name: 'watcher',
        about: 'notes every watched event; answers pokes',
        onEvent(ctx, event) {
          seen.push(event);
          ctx.memory.set('last', event.content);
        },
        onMessage(ctx, m) {
          ctx.reply(`poked: ${m.text} (owner: ${m.fromOwner})`);
        },
      }),
    );
  });
  afterEach(async () => {
    await fx.close();
  });

  it('runs onEvent for a matching signed event once, ignores non-matching ones, and pokes reach onMessage', async () => {
    const runtime = await fx.runtime();
    const author = stranger(0xa1);
    const agent = await fx.agent(runtime, 'w1', 'watcher', { watch: [{ kinds: [1], authors: [author.getPublicKey()] }] });
    expect(runtime.watches()).toEqual([{ agentIndex: agent.index, agentPubkey: agent.pubkey, filters: [{ kinds: [1], authors: [author.getPublicKey()] }] }]);
    const note = author.signEvent({ kind: 1, created_at: 1_700_000_000, tags: [], content: 'watched!' });
    const other = stranger(0xb2).signEvent({ kind: 1, created_at: 1_700_000_000, tags: [], content: 'not watched' });
    expect(runtime.deliverEvent(agent.pubkey, note)).toBe(true);
    expect(runtime.deliverEvent(agent.pubkey, note)).toBe(false); // duplicate
    expect(runtime.deliverEvent(agent.pubkey, other)).toBe(false);
    await waitFor('event tick', () => seen.length === 1);
    await runtime.idle();
    expect(seen.map((e) => e.id)).toEqual([note.id]);
    expect(fx.storage.kv(agent.index).get('last')).toBe('watched!');
    expect(fx.storage.ticks.last(agent.index)?.trigger).toMatchObject({ type: 'event', eventId: note.id, from: author.getPublicKey() });

    runtime.poke('w1', 'hello');
    await waitFor('poke answered to the owner', () => fx.storage.ticks.list(agent.index).some((t) => t.trigger.type === 'manual' && t.trigger.text === 'hello'));
    await runtime.idle();
    expect(fx.dmsTo(owner, agent)).toEqual(['poked: hello (owner: true)']);
    expect(() => runtime.poke('nobody', 'x')).toThrow(/no agent "nobody"/);
  });
});
