import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/behaviors/define-agent.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import type { WatchRef } from '../../src/runtime/types.js';
import { RuntimeFixture, owner, stranger, waitFor } from './helpers.js';

describe('runtime: event triggers from watched filters, and manual pokes', () => {
  let fx: RuntimeFixture;
  const seen: Array<{ event: NostrEvent; watch?: WatchRef }> = [];
  beforeEach(() => {
    fx = new RuntimeFixture();
    seen.length = 0;
    fx.define(
      defineAgent({
        name: 'watcher',
        about: 'notes every watched event; answers pokes',
        async onEvent(ctx, event, watch) {
          seen.push({ event, ...(watch ? { watch } : {}) });
          await ctx.memory.set('last', event.content);
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

  it('runs onEvent for a matching signed event once, with its watch; ignores non-matching ones; pokes reach onMessage', async () => {
    const runtime = await fx.runtime();
    const author = stranger(0xa1);
    // A bare filter (the older config form) becomes watch "w1".
    const agent = await fx.agent(runtime, 'w1', 'watcher', { watch: [{ kinds: [1], authors: [author.getPublicKey()] }, { id: 'tags', filter: { '#t': ['deploy'] }, prompt: 'report deploys' }] });
    expect(await runtime.watches()).toEqual([
      { agentIndex: agent.index, agentPubkey: agent.pubkey, watches: [{ id: 'w1', filter: { kinds: [1], authors: [author.getPublicKey()] } }, { id: 'tags', filter: { '#t': ['deploy'] }, prompt: 'report deploys' }] },
    ]);
    const note = author.signEvent({ kind: 1, created_at: 1_700_000_000, tags: [], content: 'watched!' });
    const other = stranger(0xb2).signEvent({ kind: 1, created_at: 1_700_000_000, tags: [], content: 'not watched' });
    const tagged = stranger(0xb3).signEvent({ kind: 1, created_at: 1_700_000_001, tags: [['t', 'deploy']], content: 'deployed' });
    expect(await runtime.deliverEvent(agent.pubkey, note)).toBe('queued');
    expect(await runtime.deliverEvent(agent.pubkey, note)).toBe('duplicate');
    expect(await runtime.deliverEvent(agent.pubkey, other)).toBe('no-match');
    expect(await runtime.deliverEvent(agent.pubkey, tagged, { watchId: 'w1' })).toBe('no-match');
    expect(await runtime.deliverEvent(agent.pubkey, tagged, { watchId: 'tags' })).toBe('queued');
    await waitFor('event ticks', () => seen.length === 2);
    await runtime.idle();
    expect(seen.map((s) => [s.event.id, s.watch])).toEqual([
      [note.id, { id: 'w1' }],
      [tagged.id, { id: 'tags', prompt: 'report deploys' }],
    ]);
    expect(await fx.storage.kv(agent.index).get('last')).toBe('deployed');
    expect((await fx.storage.ticks.list(agent.index)).filter((t) => t.trigger.type === 'event').map((t) => t.trigger)).toMatchObject([
      { type: 'event', eventId: note.id, from: author.getPublicKey() },
      { type: 'event', eventId: tagged.id },
    ]);

    await runtime.poke('w1', 'hello');
    await waitFor('poke answered to the owner', async () => (await fx.storage.ticks.list(agent.index)).some((t) => t.trigger.type === 'manual' && t.trigger.text === 'hello'));
    await runtime.idle();
    expect(await fx.dmsTo(owner, agent)).toEqual(['poked: hello (owner: true)']);
    await expect(runtime.poke('nobody', 'x')).rejects.toThrow(/no agent "nobody"/);
  });

  it('rate-limits each watch on its own (the rest refused and reported), and refills with time', async () => {
    const runtime = await fx.runtime();
    const author = stranger(0xa4);
    const agent = await fx.agent(runtime, 'busy', 'watcher', { watch: [{ id: 'feed', filter: { authors: [author.getPublicKey()] }, rate: { capacity: 2, windowMs: 60_000 } }] });
    const refused: string[] = [];
    runtime.events.on('inbound.refused', (e) => refused.push(e.reason));
    const notes = Array.from({ length: 4 }, (_, i) => author.signEvent({ kind: 1, created_at: 1_700_000_000 + i, tags: [], content: `n${i}` }));
    const outcomes = [];
    for (const n of notes.slice(0, 3)) outcomes.push(await runtime.deliverEvent(agent.pubkey, n));
    expect(outcomes).toEqual(['queued', 'queued', 'rate-limited']);
    expect(refused).toEqual(['rate-limited: watch feed']);
    // A duplicate costs no token, and a refused event can come back once the bucket refills.
    expect(await runtime.deliverEvent(agent.pubkey, notes[0]!)).toBe('duplicate');
    // Ticks done first: 30 s on the manual clock would pass a running tick's deadline.
    await waitFor('two event ticks', () => seen.length === 2);
    await runtime.idle();
    await fx.clock.advance(30_000);
    expect(await runtime.deliverEvent(agent.pubkey, notes[2]!)).toBe('queued');
    expect(await runtime.deliverEvent(agent.pubkey, notes[3]!)).toBe('rate-limited');
    await waitFor('three event ticks', () => seen.length === 3);
    expect(seen.map((s) => s.event.content)).toEqual(['n0', 'n1', 'n2']);
  });
});

describe('built-in agents and external triggers', () => {
  let fx: RuntimeFixture;
  beforeEach(() => {
    fx = new RuntimeFixture();
  });
  afterEach(async () => {
    await fx.close();
  });

  it('without a model, the assistant tells its owner about a watched event (with the prompt) and a webhook', async () => {
    const runtime = await fx.runtime();
    const author = stranger(0xa7);
    const agent = await fx.agent(runtime, 'helper', 'assistant', {
      watch: [{ id: 'deploys', filter: { '#t': ['deploy'] }, prompt: 'check the release notes' }],
      hooks: [{ name: 'ci', secret: 'ef'.repeat(32) }],
    });
    const note = author.signEvent({ kind: 1, created_at: 1_700_000_000, tags: [['t', 'deploy']], content: 'v2 shipped' });
    expect(await runtime.deliverEvent(agent.pubkey, note)).toBe('queued');
    expect(await runtime.deliverWebhook('helper', { hook: 'ci', deliveryId: 'b1', signature: '00'.repeat(32), body: { status: 'red' } })).toMatchObject({ outcome: 'queued' });
    await waitFor('two notices to the owner', async () => (await fx.dmsTo(owner, agent)).length === 2);
    const [watched, hooked] = await fx.dmsTo(owner, agent);
    expect(watched).toMatch(/^\[watch deploys\] check the release notes: kind 1 from npub1.*: v2 shipped$/);
    expect(hooked).toBe('[webhook ci] {"status":"red"}');
  });
});
