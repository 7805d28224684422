import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/behaviors/define-agent.js';
import { RuntimeFixture, gate, inbound, stranger, waitFor } from './helpers.js';

describe('runtime: per-agent order and bounded concurrency', () => {
  let fx: RuntimeFixture;
  beforeEach(() => {
    fx = new RuntimeFixture();
  });
  afterEach(async () => {
    await fx.close();
  });

  it('runs one tick at a time per agent, in arrival order', async () => {
    const seen: string[] = [];
    let inTick = 0;
    let overlap = false;
    const slow = gate();
    fx.define(
      defineAgent({
        name: 'recorder',
        about: 'records the order of its messages',
        async onMessage(ctx, m) {
          inTick += 1;
          if (inTick > 1) overlap = true;
          if (m.text === 'm0') await slow.promise;
          seen.push(m.text);
          await ctx.memory.set('last', m.text);
          inTick -= 1;
        },
      }),
    );
    const runtime = await fx.runtime({ concurrency: 4 });
    const agent = await fx.agent(runtime, 'rec', 'recorder');
    const alice = stranger(0xa1);
    for (let i = 0; i < 6; i++) await runtime.deliver(inbound(agent, alice, `m${i}`));
    await waitFor('first tick running', () => runtime.stats().running === 1);
    expect(seen).toEqual([]);
    slow.open();
    await waitFor('all six', () => seen.length === 6);
    expect(seen).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    expect(overlap).toBe(false);
    expect(await fx.storage.kv(agent.index).get('last')).toBe('m5');
  });

  it('never runs more ticks at once than `concurrency`, across agents', async () => {
    let running = 0;
    let peak = 0;
    const release = gate();
    fx.define(
      defineAgent({
        name: 'blocker',
        about: 'waits for the test',
        async onMessage(ctx) {
          running += 1;
          peak = Math.max(peak, running);
          await release.promise;
          running -= 1;
          ctx.reply('done');
        },
      }),
    );
    const runtime = await fx.runtime({ concurrency: 2 });
    const agents = [];
    for (let i = 0; i < 5; i++) agents.push(await fx.agent(runtime, `b${i}`, 'blocker'));
    const alice = stranger(0xa1);
    for (const a of agents) await runtime.deliver(inbound(a, alice, 'go'));
    await waitFor('two running', () => running === 2);
    expect(runtime.stats().running).toBe(2);
    expect(runtime.stats().ready).toBe(3);
    release.open();
    await waitFor('all answered', async () => (await fx.dmsTo(alice)).length === 5);
    expect(peak).toBe(2);
  });
});
