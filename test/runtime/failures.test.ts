import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/behaviors/define-agent.js';
import type { TickFailure } from '../../src/runtime/types.js';
import { RuntimeFixture, inbound, owner, stranger, waitFor } from './helpers.js';

describe('runtime: retries, failure after N, recover, tick timeout', () => {
  let fx: RuntimeFixture;
  const state = { failing: true, attempts: 0, failures: [] as TickFailure[] };
  beforeEach(() => {
    fx = new RuntimeFixture();
    state.failing = true;
    state.attempts = 0;
    state.failures = [];
    fx.define(
      defineAgent({
        name: 'flaky',
        about: 'throws while told to',
        async onMessage(ctx, m) {
          state.attempts += 1;
          await ctx.memory.set('attempted', state.attempts);
          if (state.failing) throw new Error(`boom on "${m.text}"`);
          ctx.reply(`fine: ${m.text}`);
        },
        onError(_ctx, failure) {
          state.failures.push(failure);
        },
      }),
    );
  });
  afterEach(async () => {
    await fx.close();
  });

  it('retries with backoff, then fails the agent after 3 consecutive failures and DMs the owner why', async () => {
    const runtime = await fx.runtime({ retryBaseMs: 1000, maxConsecutiveFailures: 3 });
    const agent = await fx.agent(runtime, 'f1', 'flaky');
    const alice = stranger(0xa1);
    await runtime.deliver(inbound(agent, alice, 'x'));
    await waitFor('first failure', () => state.failures.length === 1);
    const row = (await fx.storage.inbox.pending(agent.index))[0]!;
    expect(row).toMatchObject({ attempts: 1, notBefore: fx.clock.now() + 1000 });
    expect(await fx.storage.kv(agent.index).get('attempted')).toBeUndefined(); // rolled back

    await fx.clock.advance(999);
    await new Promise((r) => setTimeout(r, 50));
    expect(state.attempts).toBe(1); // not before its time
    await fx.clock.advance(1);
    await waitFor('second failure', () => state.failures.length === 2);
    await fx.clock.advance(2000);
    await waitFor('third failure', () => state.failures.length === 3);
    await waitFor('failed state', async () => (await fx.storage.agents.get(agent.index))?.state === 'failed');

    expect(state.failures.map((f) => f.willRetry)).toEqual([true, true, false]);
    expect(state.failures[2]!.message).toContain('boom on "x"');
    const rec = (await fx.storage.agents.get(agent.index))!;
    expect(rec.consecutiveFailures).toBe(3);
    const dms = await fx.dmsTo(owner, agent);
    expect(dms).toHaveLength(1);
    expect(dms[0]).toMatch(/stopped after 3 consecutive failed ticks/);
    expect(dms[0]).toContain('boom on "x"');
    expect(await fx.storage.inbox.get(row.id)).toMatchObject({ status: 'failed' });
    expect((await fx.storage.inbox.get(row.id))?.reason).toMatch(/gave up after 3/);
    const outcomes = (await fx.storage.ticks.list(agent.index)).map((t) => t.outcome);
    expect(outcomes).toEqual(['ok', 'error', 'error', 'error']);
    expect((await fx.storage.ticks.last(agent.index))?.steps.at(-2)).toMatchObject({ type: 'error' });
    expect((await runtime.status(agent.index)).inMemory).toBe(false);

    // While failed, new triggers wait; recover brings the agent back and serves them.
    await runtime.deliver(inbound(agent, alice, 'y'));
    await runtime.idle();
    expect(await fx.storage.inbox.pending(agent.index)).toHaveLength(1);
    state.failing = false;
    const recovered = await runtime.recover(agent.name);
    expect(recovered).toMatchObject({ state: 'active', consecutiveFailures: 0 });
    await waitFor('served after recover', async () => (await fx.dmsTo(alice)).length === 1);
    expect(await fx.dmsTo(alice)).toEqual(['fine: y']);
    expect((await fx.storage.ticks.list(agent.index)).some((t) => t.trigger.text === '/recover' && t.outcome === 'ok')).toBe(true);
    await expect(runtime.recover(agent.name)).rejects.toThrow(/cannot go from active to active/);
  });

  it('a tick past its max duration is aborted, rolled back, marked failed (not re-run), and the next DM is served', async () => {
    fx.define(
      defineAgent({
        name: 'stuck',
        about: 'hangs on "hang", ignoring its signal',
        async onMessage(ctx, m) {
          await ctx.memory.set(`wrote:${m.text}`, true);
          if (m.text === 'hang') await new Promise(() => {});
          ctx.reply(`fine: ${m.text}`);
        },
      }),
    );
    const runtime = await fx.runtime({ retryBaseMs: 1000 });
    const agent = await fx.agent(runtime, 's1', 'stuck', { budget: { maxTickMs: 5000 } });
    const alice = stranger(0xa1);
    const hang = inbound(agent, alice, 'hang');
    await runtime.deliver(hang);
    await runtime.deliver(inbound(agent, alice, 'after'));
    await waitFor('hanging', () => runtime.stats().running === 1);
    await fx.clock.advance(5000);
    await waitFor('next DM served', async () => (await fx.dmsTo(alice)).length === 1);
    expect(await fx.dmsTo(alice)).toEqual(['fine: after']);
    expect(await fx.storage.kv(agent.index).get('wrote:hang')).toBeUndefined();
    expect(await fx.storage.kv(agent.index).get('wrote:after')).toBe(true);
    const aborted = (await fx.storage.ticks.list(agent.index)).find((t) => t.trigger.text === 'hang')!;
    expect(aborted).toMatchObject({ outcome: 'aborted' });
    expect(aborted.error).toMatch(/max duration of 5000 ms/);
    await fx.clock.advance(120_000);
    await runtime.idle();
    expect((await fx.storage.ticks.list(agent.index)).filter((t) => t.trigger.text === 'hang')).toHaveLength(1);
    expect(await fx.storage.inbox.pending(agent.index)).toHaveLength(0);
    // Idle past the default 60 s, it has hibernated since.
    expect(await fx.storage.agents.get(agent.index)).toMatchObject({ state: 'dormant', consecutiveFailures: 0 });
  });
});
