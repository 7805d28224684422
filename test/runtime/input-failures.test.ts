import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/behaviors/define-agent.js';
import { InputError } from '../../src/util/errors.js';
import { RuntimeFixture, inbound, stranger, waitFor } from './helpers.js';

const unlabel = (part: string): string => part.replace(/^\[\d+\/\d+\] /, '');

describe('runtime: failures caused by input are refused, never retried, never counted', () => {
  let fx: RuntimeFixture;
  beforeEach(() => {
    fx = new RuntimeFixture();
    fx.define(
      defineAgent({
        name: 'picky',
        about: 'cannot read anything',
        defaultDmPolicy: 'open',
        async onMessage(ctx, m) {
          await ctx.memory.set('seen', m.text);
          throw new InputError('INPUT_UNDECODABLE', `cannot parse "${m.text}"`);
        },
      }),
    );
  });
  afterEach(async () => {
    await fx.close();
  });

  it('a 40 KB NIP-17 DM and three 60 KB NIP-04 DMs from strangers are answered in parts; the agent stays active with no failures', async () => {
    const runtime = await fx.runtime({ retryBaseMs: 10, maxConsecutiveFailures: 3 });
    const agent = await fx.agent(runtime, 'echo1', 'echo');
    const big17 = 'forty kilobytes '.repeat(2560); // 40,960 bytes
    await runtime.deliver(inbound(agent, stranger(0xb0), big17));
    const big04 = ['a', 'b', 'c'].map((c) => `${c} `.repeat(30_000)); // 60,000 bytes each
    for (const [i, text] of big04.entries()) await runtime.deliver(inbound(agent, stranger(0xc0 + i), text, { protocol: 'nip04' }));
    await waitFor('every DM handled', async () => (await fx.storage.inbox.pending(agent.index)).length === 0 && (await fx.storage.ticks.list(agent.index)).length >= 5);

    expect((await fx.dmsTo(stranger(0xb0), agent)).map(unlabel).join('')).toBe(`echo: ${big17}`);
    const kind4 = (await fx.plainEvents(agent)).filter((e) => e.kind === 4);
    for (const [i, text] of big04.entries()) {
      const peer = stranger(0xc0 + i);
      const parts = kind4.filter((e) => e.tags.some((t) => t[0] === 'p' && t[1] === peer.getPublicKey())).sort((a, b) => a.created_at - b.created_at);
      expect(parts.length).toBeGreaterThan(1);
      expect(parts.map((e) => unlabel(peer.nip04.decrypt(agent.pubkey, e.content))).join('')).toBe(`echo: ${text}`);
    }
    const record = (await fx.storage.agents.get(agent.index))!;
    expect([record.state, record.consecutiveFailures, record.failures]).toEqual(['active', 0, 0]);
  });

  it('an input fault: the trigger is refused with its code, the sender alone gets a notice, nothing else is kept, and it never counts', async () => {
    const runtime = await fx.runtime({ retryBaseMs: 10, maxConsecutiveFailures: 3 });
    const agent = await fx.agent(runtime, 'p1', 'picky');
    const senders = [0xd1, 0xd2, 0xd3, 0xd4, 0xd5].map(stranger);
    for (const s of senders) await runtime.deliver(inbound(agent, s, `garbage from ${s.getPublicKey().slice(0, 4)}`));
    await waitFor('five refusals', async () => (await fx.storage.ticks.list(agent.index)).filter((t) => t.outcome === 'refused').length === 5);

    const record = (await fx.storage.agents.get(agent.index))!;
    expect([record.state, record.consecutiveFailures, record.failures]).toEqual(['active', 0, 0]);
    expect(await fx.storage.inbox.pending(agent.index)).toEqual([]);
    const refused = (await fx.storage.ticks.list(agent.index)).filter((t) => t.outcome === 'refused');
    expect(refused.every((t) => t.error?.startsWith('INPUT_UNDECODABLE: cannot parse'))).toBe(true);
    expect(refused).toHaveLength(5); // each ran once: no retry
    for (const s of senders) expect(await fx.dmsTo(s, agent)).toEqual(['Sorry, I could not read that message.']);
    expect(await fx.storage.kv(agent.index).get('seen')).toBeUndefined();
  });

  it('a message whose tags leave no room for an answer (a 60 KB subject) gets a short notice without them', async () => {
    const runtime = await fx.runtime({ retryBaseMs: 10, maxConsecutiveFailures: 1 });
    const agent = await fx.agent(runtime, 'echo2', 'echo');
    const eve = stranger(0xe1);
    await runtime.deliver(inbound(agent, eve, 'hello', { subject: 's'.repeat(60_000) }));
    await waitFor('the refusal', async () => (await fx.storage.ticks.list(agent.index)).some((t) => t.outcome === 'refused'));
    const [notice] = await fx.rumorsTo(eve);
    expect(notice?.content).toBe('Sorry, that message is too long for me to answer.');
    expect(notice?.tags.some((t) => t[0] === 'subject')).toBe(false);
    const record = (await fx.storage.agents.get(agent.index))!;
    expect([record.state, record.consecutiveFailures]).toEqual(['active', 0]);
    // The next normal message is answered as ever.
    await runtime.deliver(inbound(agent, eve, 'again'));
    await waitFor('the echo', async () => (await fx.dmsTo(eve, agent)).includes('echo: again'));
  });
});
