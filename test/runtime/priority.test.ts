/**
 * Priority across agents when ticks queue up (concurrency 1, a manual clock): the owner's messages
 * and due alarms start before strangers' DMs, which start before watched events; an agent's own
 * triggers keep their arrival order; a trigger that has waited moves up (no starvation).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defineAgent } from '../../src/behaviors/define-agent.js';
import type { Runtime } from '../../src/runtime/engine.js';
import { RuntimeFixture, gate, inbound, owner, stranger, waitFor } from './helpers.js';

describe('runtime: priority across agents', () => {
  let fx: RuntimeFixture;
  let release: ReturnType<typeof gate>;
  const order: string[] = [];
  const alice = stranger(0xa1);
  const author = stranger(0xa2);
  beforeEach(() => {
    fx = new RuntimeFixture();
    release = gate();
    order.length = 0;
    fx.define(
      defineAgent({
        name: 'recorder',
        about: 'records the order of its ticks; "block" waits for the test, "arm" sets an alarm in 1 s',
        async onMessage(ctx, m) {
          if (m.text === 'block') return void (await release.promise);
          if (m.text === 'arm') return void ctx.schedule({ in: 1000, note: 'ring' });
          order.push(`${ctx.agent.name}:${m.fromOwner ? 'owner' : 'stranger'}`);
        },
        onAlarm: (ctx) => void order.push(`${ctx.agent.name}:alarm`),
        onEvent: (ctx) => void order.push(`${ctx.agent.name}:event`),
      }),
    );
  });
  afterEach(async () => {
    await fx.close();
  });

  const watched = { watch: [{ id: 'feed', filter: { authors: [author.getPublicKey()] } }] };
  const slowTicks = { budget: { maxTickMs: 600_000 } };

  async function blocked(runtime: Runtime): Promise<void> {
    await runtime.poke('blocker', 'block');
    await waitFor('the blocking tick', () => runtime.stats().running === 1);
  }

  it('starts the owner and due alarms first, then strangers, then watched events; each agent in its own arrival order', async () => {
    const runtime = await fx.runtime({ concurrency: 1 });
    const [, s, w, e, o] = [
      await fx.agent(runtime, 'blocker', 'recorder', slowTicks),
      await fx.agent(runtime, 's', 'recorder'),
      await fx.agent(runtime, 'w', 'recorder', watched),
      await fx.agent(runtime, 'e', 'recorder'),
      await fx.agent(runtime, 'o', 'recorder'),
      await fx.agent(runtime, 'a', 'recorder'),
    ];
    await runtime.poke('a', 'arm');
    await waitFor('the alarm set', async () => (await fx.storage.schedules.nextDue()) !== undefined);
    await runtime.idle();
    await blocked(runtime);

    await runtime.deliver(inbound(s!, alice, 'hi'));
    expect(await runtime.deliverEvent(w!.pubkey, author.signEvent({ kind: 1, created_at: 1_700_000_000, tags: [], content: 'x' }))).toBe('queued');
    await runtime.deliver(inbound(e!, alice, 'first'));
    await runtime.deliver(inbound(e!, owner, 'second'));
    await runtime.deliver(inbound(o!, owner, 'hello'));
    await fx.clock.advance(1000);
    await waitFor('the alarm queued', async () => (await fx.storage.inbox.pending(5)).some((x) => x.trigger === 'alarm'));
    expect(order).toEqual([]);

    release.open();
    await waitFor('six ticks', () => order.length === 6);
    expect(order).toEqual(['o:owner', 'a:alarm', 's:stranger', 'e:stranger', 'e:owner', 'w:event']);
  });

  it('moves a trigger that has waited up a class per minute, so watched events are never starved', async () => {
    const runtime = await fx.runtime({ concurrency: 1 });
    const [, w, o] = [await fx.agent(runtime, 'blocker', 'recorder', slowTicks), await fx.agent(runtime, 'w', 'recorder', watched), await fx.agent(runtime, 'o', 'recorder')];
    await blocked(runtime);
    expect(await runtime.deliverEvent(w!.pubkey, author.signEvent({ kind: 1, created_at: 1_700_000_000, tags: [], content: 'old' }))).toBe('queued');
    // Two minutes of waiting: the watched event (class 2) has aged to the owner's class.
    await fx.clock.advance(120_000);
    await runtime.deliver(inbound(o!, owner, 'new'));
    release.open();
    await waitFor('two ticks', () => order.length === 2);
    expect(order).toEqual(['w:event', 'o:owner']);
  });

  it('orders nothing while every slot is busy, and starts a waiting agent with the head read to order it: one inbox read per tick', async () => {
    const runtime = await fx.runtime({ concurrency: 1 });
    const [, s, e] = [await fx.agent(runtime, 'blocker', 'recorder', slowTicks), await fx.agent(runtime, 's', 'recorder'), await fx.agent(runtime, 'e', 'recorder')];
    await blocked(runtime);
    const pending = vi.spyOn(fx.storage.inbox, 'pending');
    const reads = (index: number): number => pending.mock.calls.filter(([i]) => i === index).length;
    await runtime.deliver(inbound(s!, alice, 'one'));
    await runtime.deliver(inbound(e!, alice, 'one'));
    await runtime.deliver(inbound(e!, owner, 'two'));
    await new Promise((r) => setTimeout(r, 50));
    // The slot is taken: no pass orders the waiting agents (each trigger used to make one that read every head).
    expect([reads(s!.index), reads(e!.index)]).toEqual([0, 0]);
    release.open();
    await waitFor('three ticks', () => order.length === 3);
    await runtime.idle();
    expect(order).toEqual(['s:stranger', 'e:stranger', 'e:owner']);
    // Per tick one read: the head read to order it (the first ones) or the look for more after the
    // tick before, which is the next tick's head; not another as the tick starts.
    expect([reads(s!.index), reads(e!.index)]).toEqual([2, 3]);
  });

  it('does not start a terminated agent whose head was read to order it', async () => {
    const runtime = await fx.runtime({ concurrency: 1 });
    const [, s, e] = [await fx.agent(runtime, 'blocker', 'recorder', slowTicks), await fx.agent(runtime, 's', 'recorder', slowTicks), await fx.agent(runtime, 'e', 'recorder')];
    await blocked(runtime);
    const pending = vi.spyOn(fx.storage.inbox, 'pending');
    await runtime.deliver(inbound(s!, alice, 'block'));
    await runtime.deliver(inbound(e!, alice, 'one'));
    // The blocker ends; s blocks on a second gate while e waits, its head read to order the two.
    const first = release;
    release = gate();
    first.open();
    await waitFor('s running, e ordered', () => runtime.stats().running === 1 && pending.mock.calls.some(([i]) => i === e!.index) && pending.mock.calls.some(([i]) => i === s!.index));
    await runtime.terminate('e');
    release.open();
    await runtime.idle();
    expect(order).toEqual([]);
    expect(await fx.storage.inbox.pending(e!.index)).toEqual([]);
  });
});
