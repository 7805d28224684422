import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/behaviors/define-agent.js';
import type { RuntimeEvent } from '../../src/runtime/events.js';
import { RuntimeFixture, inbound, owner, stranger, waitFor } from './helpers.js';

describe('runtime: lifecycle, hibernation, owner commands', () => {
  let fx: RuntimeFixture;
  const hooks: string[] = [];
  beforeEach(() => {
    fx = new RuntimeFixture();
    hooks.length = 0;
    fx.define(
      defineAgent({
        name: 'hooked',
        about: 'records its hooks',
        async onCreate(ctx) {
          hooks.push('create');
          await ctx.memory.set('born', ctx.now());
        },
        onWake() {
          hooks.push('wake');
        },
        onSleep() {
          hooks.push('sleep');
        },
        onTerminate() {
          hooks.push('terminate');
        },
        onMessage(ctx, m) {
          hooks.push(`message:${m.text}`);
          ctx.reply(`got ${m.text}`);
        },
      }),
    );
  });
  afterEach(async () => {
    await fx.close();
  });

  it('creates (onCreate commits), hibernates after idle (agent dropped, state dormant), wakes on a trigger (onWake)', async () => {
    const runtime = await fx.runtime({ idleMs: 10_000 });
    const events: RuntimeEvent[] = [];
    runtime.events.subscribe((e) => events.push(e));
    const agent = await fx.agent(runtime, 'h1', 'hooked');
    expect(await fx.storage.kv(agent.index).get('born')).toBe(fx.clock.now());
    expect(hooks).toEqual(['wake', 'create']);
    expect((await runtime.status(agent.index)).inMemory).toBe(true);

    await fx.clock.advance(10_000);
    await waitFor('hibernated', async () => (await fx.storage.agents.get(agent.index))?.state === 'dormant');
    expect(runtime.stats().inMemory).toBe(0);
    expect(hooks).toEqual(['wake', 'create', 'sleep']);
    expect(events.some((e) => e.type === 'agent.slept')).toBe(true);

    const alice = stranger(0xa1);
    await runtime.deliver(inbound(agent, alice, 'wake up'));
    await waitFor('reply', async () => (await fx.dmsTo(alice)).length === 1);
    expect(hooks).toEqual(['wake', 'create', 'sleep', 'wake', 'message:wake up']);
    expect((await fx.storage.agents.get(agent.index))?.state).toBe('active');
    expect(events.filter((e) => e.type === 'agent.woke')).toHaveLength(2);
    expect(events.some((e) => e.type === 'agent.state' && e.from === 'dormant' && e.to === 'active')).toBe(true);
  });

  it('a restart finds no agent in memory: active rows become dormant and nothing is loaded until a trigger', async () => {
    const first = await fx.runtime();
    const agents = [];
    for (let i = 0; i < 5; i++) agents.push(await fx.agent(first, `many${i}`, 'echo'));
    await fx.storage.close();
    fx.reopen();
    const second = await fx.runtime();
    expect(second.stats().inMemory).toBe(0);
    expect((await fx.storage.agents.list()).map((a) => a.state)).toEqual(['dormant', 'dormant', 'dormant', 'dormant', 'dormant']);
  });

  it('pause keeps triggers queued; resume runs them in order; terminate refuses what is left and runs onTerminate', async () => {
    const runtime = await fx.runtime();
    const agent = await fx.agent(runtime, 'p1', 'hooked');
    const alice = stranger(0xa1);
    await runtime.pause(agent.name);
    expect((await fx.storage.agents.get(agent.index))?.state).toBe('paused');
    await runtime.deliver(inbound(agent, alice, 'one'));
    await runtime.deliver(inbound(agent, alice, 'two'));
    await runtime.idle();
    expect(await fx.dmsTo(alice)).toEqual([]);
    expect(await fx.storage.inbox.pending(agent.index)).toHaveLength(2);
    await runtime.resume(agent.name);
    await waitFor('both served', async () => (await fx.dmsTo(alice)).length === 2);
    expect(await fx.dmsTo(alice)).toEqual(['got one', 'got two']);

    await runtime.pause(agent.index);
    await runtime.deliver(inbound(agent, alice, 'three'));
    const done = await runtime.terminate(agent.name);
    expect(done.state).toBe('terminated');
    expect(hooks).toContain('terminate');
    expect(await fx.storage.inbox.pending(agent.index)).toHaveLength(0);
    await runtime.deliver(inbound(agent, alice, 'four'));
    await runtime.idle();
    expect(await fx.dmsTo(alice)).toHaveLength(2);
    await expect(runtime.resume(agent.name)).rejects.toThrow(/cannot go from terminated/);
  });

  it('owner commands work only from the owner key: /pause, /status and /budget while paused, /resume', async () => {
    const runtime = await fx.runtime();
    const agent = await fx.agent(runtime, 'e1', 'echo');
    const mallory = stranger(0x3e);
    await runtime.deliver(inbound(agent, mallory, '/pause'));
    await waitFor('echoed', async () => (await fx.dmsTo(mallory)).length === 1);
    expect(await fx.dmsTo(mallory)).toEqual(['echo: /pause']);
    expect((await fx.storage.agents.get(agent.index))?.state).not.toBe('paused');

    await runtime.deliver(inbound(agent, owner, '/pause'));
    await waitFor('paused', async () => (await fx.storage.agents.get(agent.index))?.state === 'paused');
    await runtime.deliver(inbound(agent, mallory, 'queued'));
    await runtime.deliver(inbound(agent, owner, '/status'));
    await runtime.deliver(inbound(agent, owner, '/budget'));
    await waitFor('owner answers', async () => (await fx.dmsTo(owner, agent)).length === 3);
    const [paused, status, budget] = await fx.dmsTo(owner, agent);
    expect(paused).toMatch(/^Paused/);
    expect(status).toMatch(/Agent "e1" \(npub1.*\), behavior echo: paused/);
    expect(status).toMatch(/Pending triggers: [12]\./); // 'queued' (and '/budget' if it arrived first)
    expect(budget).toMatch(/compute seconds: .* of 3600\.0/);
    expect(await fx.dmsTo(mallory)).toHaveLength(1);

    await runtime.deliver(inbound(agent, owner, '/resume'));
    await waitFor('queued served', async () => (await fx.dmsTo(mallory)).length === 2);
    expect((await fx.dmsTo(mallory))[1]).toBe('echo: queued');
    expect((await fx.dmsTo(owner, agent))[3]).toMatch(/^Resumed/);
  });
});
