import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../src/storage/types.js';
import type { Runtime } from '../../src/runtime/engine.js';
import { RuntimeFixture, inbound, owner, stranger, waitFor } from '../runtime/helpers.js';

describe('behaviors: the rule-based assistant (real SQLite, FTS5, alarms)', () => {
  let fx: RuntimeFixture;
  let runtime: Runtime;
  let agent: AgentRecord;
  const ask = async (text: string): Promise<string> => {
    const before = (await fx.dmsTo(owner, agent)).length;
    await runtime.deliver(inbound(agent, owner, text));
    await waitFor(`answer to "${text}"`, async () => (await fx.dmsTo(owner, agent)).length > before);
    return (await fx.dmsTo(owner, agent))[before]!;
  };
  beforeEach(async () => {
    fx = new RuntimeFixture();
    runtime = await fx.runtime();
    agent = await fx.agent(runtime, 'helper', 'assistant');
  });
  afterEach(async () => {
    await fx.close();
  });

  it('remembers, recalls with full-text search, and forgets', async () => {
    expect(await ask('remember the wifi password is hunter2')).toBe('Remembered: the wifi password is hunter2');
    expect(await ask('Remember that Alice likes green tea')).toBe('Remembered: Alice likes green tea');
    expect(await ask('remember the boat is blue')).toBe('Remembered: the boat is blue');
    expect(await ask('recall wifi')).toBe('I remember:\n- the wifi password is hunter2');
    const teas = await ask('recall what does alice like');
    expect(teas).toContain('- Alice likes green tea');
    expect(await ask('recall submarine')).toBe('I don\'t remember anything about "submarine".');
    expect(await ask('forget boat blue')).toBe('Forgot 1 fact about "boat blue".');
    expect(await ask('recall boat')).toBe('I don\'t remember anything about "boat".');
    expect(await ask('forget nothing-like-this')).toBe('I had nothing to forget about "nothing-like-this".');
    expect((await fx.storage.facts(agent.index).list()).map((f) => f.text).sort()).toEqual(['Alice likes green tea', 'the wifi password is hunter2']);
  });

  it('"remind me in <duration> to <text>" sets an alarm and DMs "Reminder: <text>" to whoever asked when it fires', async () => {
    const answer = await ask('remind me in 10 seconds to stretch');
    expect(answer).toBe(`OK, I'll remind you in 10s (at ${new Date(fx.clock.now() + 10_000).toISOString()}) to stretch.`);
    expect(await fx.storage.schedules.list(agent.index)).toHaveLength(1);
    await fx.clock.advance(9_999);
    await new Promise((r) => setTimeout(r, 50));
    expect(await fx.dmsTo(owner, agent)).toHaveLength(1);
    await fx.clock.advance(1);
    await waitFor('reminder', async () => (await fx.dmsTo(owner, agent)).length === 2);
    expect((await fx.dmsTo(owner, agent))[1]).toBe('Reminder: stretch');
    expect(await fx.storage.schedules.list(agent.index)).toHaveLength(0);

    for (const [text, ms] of [['remind me in 5m to call mom', 300_000], ['remind me in 2 hours to eat', 7_200_000], ['remind me in 1d to water plants', 86_400_000], ['remind me in 3s to blink', 3000]] as const) {
      expect(await ask(text)).toContain(`(at ${new Date(fx.clock.now() + ms).toISOString()})`);
    }
    expect(await ask('remind me in soon to relax')).toMatch(/^I can't set that reminder: cannot read duration "soon"/);
    expect(await ask('remind me to relax')).toMatch(/I didn't get the time/);
  });

  it('a reminder goes to whoever asked (an allowed friend), not the owner', async () => {
    const friend = stranger(0xf1);
    const shared = await fx.agent(runtime, 'shared', 'assistant', { dmPolicy: 'allowlist', allowlist: [friend.getPublicKey()] });
    await runtime.deliver(inbound(shared, friend, 'remind me in 1 minute to leave'));
    await waitFor('ack', async () => (await fx.dmsTo(friend)).length === 1);
    await fx.clock.advance(60_000);
    await waitFor('reminder', async () => (await fx.dmsTo(friend)).length === 2);
    expect((await fx.dmsTo(friend))[1]).toBe('Reminder: leave');
    expect(await fx.dmsTo(owner, shared)).toEqual([]);
  });

  it('status reports state, ticks, budget use and that no LLM is configured; help and unknown input list the commands', async () => {
    const status = await ask('status');
    expect(status).toMatch(/^I am "helper", the assistant agent\. State: active\. Ticks so far: \d+\./);
    expect(status).toContain('No LLM is configured');
    expect(status).toMatch(/compute seconds: [\d.]+ of 3600\.0/);
    expect(status).toMatch(/LLM calls: 0 of 500/);
    const help = await ask('help');
    for (const word of ['remember <fact>', 'recall <words>', 'forget <words>', 'remind me in <duration> to <text>', 'status', 'help']) expect(help).toContain(word);
    const unknown = await ask('what is the meaning of life');
    expect(unknown).toMatch(/^I didn't understand "what is the meaning of life"\. I can do this:/);
  });

  it('handles a mention by replying in public with the same rules', async () => {
    const mention = inbound(agent, owner, 'nostr:npub1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqsx2rzh remember mentions work', { kind: 'mention', protocol: 'note' });
    await runtime.deliver(mention);
    await waitFor('note reply', async () => (await fx.plainEvents(agent)).length === 1);
    expect((await fx.plainEvents(agent))[0]).toMatchObject({ kind: 1, content: 'Remembered: mentions work' });
  });
});

describe('behaviors: echo', () => {
  let fx: RuntimeFixture;
  beforeEach(() => {
    fx = new RuntimeFixture();
  });
  afterEach(async () => {
    await fx.close();
  });

  it('replies "echo: <text>" to a DM and to a mention, from anyone (open policy)', async () => {
    const runtime = await fx.runtime();
    const agent = await fx.agent(runtime, 'echo', 'echo');
    const carol = stranger(0xc3);
    await runtime.deliver(inbound(agent, carol, 'ping'));
    await runtime.deliver(inbound(agent, carol, 'hi @echo', { kind: 'mention', protocol: 'note' }));
    await waitFor('both', async () => (await fx.dmsTo(carol)).length === 1 && (await fx.plainEvents(agent)).length === 1);
    expect(await fx.dmsTo(carol)).toEqual(['echo: ping']);
    expect((await fx.plainEvents(agent))[0]!.content).toBe('echo: hi @echo');
  });
});
