import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/behaviors/define-agent.js';
import type { AlarmFiring } from '../../src/runtime/types.js';
import { RuntimeFixture, inbound, owner, stranger, waitFor } from './helpers.js';

describe('runtime: alarms', () => {
  let fx: RuntimeFixture;
  const fired: AlarmFiring[] = [];
  beforeEach(() => {
    fx = new RuntimeFixture();
    fired.length = 0;
    fx.define(
      defineAgent({
        name: 'ticker',
        about: 'sets an interval alarm on create',
        onCreate(ctx) {
          ctx.schedule({ every: '1m', note: 'minutely', key: 'minutely' });
        },
        onAlarm(_ctx, alarm) {
          fired.push(alarm);
        },
      }),
    );
  });
  afterEach(async () => {
    await fx.close();
  });

  it('fires on time through the wake loop, and a recurring alarm missed while down fires once after restart', async () => {
    const first = await fx.runtime();
    const agent = await fx.agent(first, 't1', 'ticker');
    expect(await fx.storage.schedules.list(agent.index)).toHaveLength(1);
    await fx.clock.advance(60_000);
    await waitFor('first firing', () => fired.length === 1);
    expect(fired[0]).toMatchObject({ note: 'minutely', key: 'minutely', dueAt: fx.clock.now() });

    await first.stop();
    await fx.clock.advance(10 * 60_000 + 5_000); // down for ten periods
    await fx.runtime();
    await waitFor('missed alarm', () => fired.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(fired).toHaveLength(2);
    expect(fired[1]!.firedAt - fired[1]!.dueAt).toBeGreaterThanOrEqual(9 * 60_000);
    const next = (await fx.storage.schedules.list(agent.index))[0]!.nextAt;
    expect(next).toBeGreaterThan(fx.clock.now());
    expect((await fx.storage.ticks.list(agent.index)).filter((t) => t.trigger.type === 'alarm')).toHaveLength(2);
  });
});

describe('runtime: budgets', () => {
  let fx: RuntimeFixture;
  beforeEach(() => {
    fx = new RuntimeFixture();
    fx.define(
      defineAgent({
        name: 'spender',
        about: 'spends the sats it is told to, or stores what it is told to',
        async onMessage(ctx, m) {
          const [verb, arg = ''] = m.text.split(' ', 2);
          if (verb === 'spend') ctx.spendSats(Number(arg));
          if (verb === 'store') {
            try {
              await ctx.memory.set('blob', arg.repeat(50));
            } catch (error) {
              ctx.reply(`refused: ${(error as Error).message}`);
              return;
            }
          }
          ctx.reply(`did ${m.text}`);
        },
      }),
    );
  });
  afterEach(async () => {
    await fx.close();
  });

  it('tells the owner once at 80%, once at 100%, then refuses ticks (recorded) until the UTC day resets', async () => {
    const runtime = await fx.runtime();
    const agent = await fx.agent(runtime, 'b1', 'spender', { budget: { dailySats: 100 } });
    const alice = stranger(0xa1);
    const send = async (text: string, n: number): Promise<void> => {
      await runtime.deliver(inbound(agent, alice, text));
      await waitFor(text, async () => (await fx.storage.ticks.list(agent.index)).length === n);
    };
    await send('spend 50', 2);
    expect(await fx.dmsTo(owner, agent)).toEqual([]);
    await send('spend 35', 3);
    await send('spend 10', 4);
    const warnings = await fx.dmsTo(owner, agent);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^Budget warning: agent "b1" has used sats 85 of 100 \(85%\)/);
    await send('spend 5', 5);
    expect(await fx.dmsTo(owner, agent)).toHaveLength(2);
    expect((await fx.dmsTo(owner, agent))[1]).toMatch(/^Budget exhausted: .*sats 100 of 100 \(100%\).*refused until/);

    const refused = inbound(agent, alice, 'spend 0');
    await send('ignored', 6);
    expect(await fx.storage.ticks.last(agent.index)).toMatchObject({ outcome: 'refused' });
    expect((await fx.storage.ticks.last(agent.index))?.error).toMatch(/budget exhausted: sats 100 of 100/);
    expect(await fx.dmsTo(alice)).toHaveLength(4);
    expect(await fx.dmsTo(owner, agent)).toHaveLength(2);
    // An over-budget spend inside a tick is refused by ctx.spendSats.
    expect((await fx.storage.budget.get(agent.index, '2023-11-14')).sats).toBe(100);

    await fx.clock.advance(24 * 3600 * 1000); // next UTC day
    await runtime.deliver(refused);
    await waitFor('served again', async () => (await fx.dmsTo(alice)).length === 5);
    expect((await fx.dmsTo(alice))[4]).toBe('did spend 0');
  });

  it('refuses writes past the storage budget with a clear error, and nothing is stored', async () => {
    const runtime = await fx.runtime();
    const agent = await fx.agent(runtime, 'b2', 'spender', { budget: { storageBytes: 300 } });
    const alice = stranger(0xa1);
    await runtime.deliver(inbound(agent, alice, 'store 0123456789'));
    await waitFor('answer', async () => (await fx.dmsTo(alice)).length === 1);
    expect((await fx.dmsTo(alice))[0]).toMatch(/^refused: storage budget exceeded: this write would use \d+ bytes of 300 allowed/);
    expect(await fx.storage.kv(agent.index).get('blob')).toBeUndefined();
    expect((await fx.storage.agents.get(agent.index))!.storageBytes).toBeLessThanOrEqual(300);
  });
});
