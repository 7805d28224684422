import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/behaviors/define-agent.js';
import { Receiver } from '../../src/relay/receiver.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import type { Runtime } from '../../src/runtime/engine.js';
import type { AgentRecord } from '../../src/storage/types.js';
import { RuntimeFixture, accountSigner, gate, inbound, stranger, waitFor } from './helpers.js';

/** The daemon's receiving side in front of `runtime`: real gift wraps are opened with the agent's key and handed to its sink. */
function receiverFor(fx: RuntimeFixture, runtime: Runtime, agent: AgentRecord): Receiver {
  const signer = accountSigner(agent.index + 1);
  return new Receiver({ storage: fx.storage, keys: (p) => (p === agent.pubkey ? signer : undefined), hosted: () => [agent.pubkey], sink: runtime.sink });
}

describe('runtime: exactly-once effects across crashes', () => {
  let fx: RuntimeFixture;
  const hold = { gate: gate(), block: true };
  beforeEach(() => {
    fx = new RuntimeFixture();
    hold.gate = gate();
    hold.block = true;
    fx.define(
      defineAgent({
        name: 'careful',
        about: 'writes state, waits, replies',
        async onMessage(ctx, m) {
          await ctx.memory.set(`seen:${m.text}`, true);
          if (hold.block) await hold.gate.promise;
          ctx.reply(`ok ${m.text}`);
        },
      }),
    );
  });
  afterEach(async () => {
    await fx.close();
  });

  it('a crash before the commit leaves nothing; the next start re-runs the tick from the saved trigger, once', async () => {
    const first = await fx.runtime();
    const agent = await fx.agent(first, 'c1', 'careful');
    const alice = stranger(0xa1);
    await first.deliver(inbound(agent, alice, 'one'));
    await waitFor('tick running', () => first.stats().running === 1);

    // Crash: the process loses its database connection mid-tick. Nothing was committed.
    await fx.storage.close();
    const storage = fx.reopen();
    expect(await storage.kv(agent.index).get('seen:one')).toBeUndefined();
    expect(await storage.inbox.pending(agent.index)).toHaveLength(1);
    expect(await fx.dmsTo(alice)).toEqual([]);
    const ticksBefore = (await storage.ticks.list(agent.index)).length;

    hold.block = false;
    const second = await fx.runtime();
    await waitFor('reply after restart', async () => (await fx.dmsTo(alice)).length === 1);
    await second.idle();
    expect(await fx.dmsTo(alice)).toEqual(['ok one']);
    expect(await storage.kv(agent.index).get('seen:one')).toBe(true);
    expect(await storage.inbox.pending(agent.index)).toHaveLength(0);
    expect(await storage.ticks.list(agent.index)).toHaveLength(ticksBefore + 1);
  });

  it('a crash after the commit does not re-run the tick: the outbox holds the reply exactly once', async () => {
    hold.block = false;
    const first = await fx.runtime();
    const agent = await fx.agent(first, 'c2', 'careful');
    const alice = stranger(0xa1);
    const msg = inbound(agent, alice, 'two');
    await first.deliver(msg);
    await waitFor('committed', async () => (await fx.dmsTo(alice)).length === 1);
    const ticks = (await fx.storage.ticks.list(agent.index)).length;
    const outboxRows = (await fx.outbox(agent)).length;
    expect((await fx.outbox(agent)).every((e) => e.status === 'pending')).toBe(true); // the publisher's job from here

    await fx.storage.close();
    fx.reopen();
    const second = await fx.runtime();
    // The receiver may hand the same event over again after a restart: it is deduplicated.
    await second.deliver(msg);
    await second.idle();
    expect(await fx.storage.ticks.list(agent.index)).toHaveLength(ticks);
    expect(await fx.outbox(agent)).toHaveLength(outboxRows);
    expect(await fx.dmsTo(alice)).toEqual(['ok two']);
  });

  it('a received gift wrap: its trigger and processed mark commit together; a crash right after, then the same wrap again, answers it once', async () => {
    const first = await fx.runtime();
    const agent = await fx.agent(first, 'c4', 'careful');
    const alice = stranger(0xa1);
    const [wrap] = buildDirectMessage(alice, agent.pubkey, 'four');
    // The process dies the moment the runtime's sink has recorded the message (before the receiver could write anything more).
    const receiver = new Receiver({
      storage: fx.storage,
      keys: (p) => (p === agent.pubkey ? accountSigner(agent.index + 1) : undefined),
      hosted: () => [agent.pubkey],
      sink: async (message, options) => {
        const marked = await first.sink(message, options);
        await fx.storage.close();
        return marked;
      },
    });
    expect(await receiver.handle(wrap!.event, 'ws://r1')).toBe(true);

    const storage = fx.reopen();
    expect(await storage.processed.isProcessed(wrap!.event.id)).toBe(true);
    expect((await storage.inbox.pending(agent.index)).map((e) => e.eventId)).toEqual([wrap!.event.id]);
    expect(await fx.dmsTo(alice)).toEqual([]);
    hold.block = false;
    const second = await fx.runtime();
    const again = receiverFor(fx, second, agent);
    // The relay replays the wrap on resubscribe: settled as a duplicate, never a second trigger.
    expect(await again.handle(wrap!.event, 'ws://r1')).toBe(true);
    expect(again.counters).toMatchObject({ received: 1, delivered: 0, duplicates: 1 });
    await waitFor('reply after restart', async () => (await fx.dmsTo(alice)).length === 1);
    await second.idle();
    expect(await fx.dmsTo(alice)).toEqual(['ok four']);
    expect(await storage.inbox.pending(agent.index)).toHaveLength(0);
  });

  it('a refused gift wrap is recorded with its mark in one transaction, and its replay is a duplicate (refused once)', async () => {
    const runtime = await fx.runtime();
    const agent = await fx.agent(runtime, 'c5', 'assistant');
    const mallory = stranger(0x3e);
    const refused: string[] = [];
    runtime.events.on('inbound.refused', (e) => refused.push(e.reason));
    const [wrap] = buildDirectMessage(mallory, agent.pubkey, 'let me in');
    const receiver = receiverFor(fx, runtime, agent);
    expect(await receiver.handle(wrap!.event, 'ws://r1')).toBe(true);
    expect(await receiver.handle(wrap!.event, 'ws://r2')).toBe(true);
    const row = fx.storage.db.prepare('SELECT status, created_at FROM inbox WHERE event_id = ?').get(wrap!.event.id) as { status: string; created_at: number };
    expect(row.status).toBe('refused');
    expect(fx.storage.db.prepare('SELECT outcome, processed_at FROM processed_events WHERE event_id = ?').get(wrap!.event.id)).toEqual({ outcome: 'delivered', processed_at: row.created_at });
    expect(refused).toEqual(['policy: owner-only']);
    expect(receiver.counters).toMatchObject({ received: 2, delivered: 1, duplicates: 1 });
  });

  it('stop() lets a running tick finish and commit; stop({ signal }) aborted rolls it back for the next start', async () => {
    const first = await fx.runtime();
    const agent = await fx.agent(first, 'c3', 'careful');
    const alice = stranger(0xa1);
    await first.deliver(inbound(agent, alice, 'graceful'));
    await waitFor('running', () => first.stats().running === 1);
    const stopping = first.stop();
    hold.gate.open();
    await stopping;
    expect(await fx.dmsTo(alice)).toEqual(['ok graceful']);
    expect((await fx.storage.agents.get(agent.index))?.state).toBe('dormant');

    hold.gate = gate();
    const second = await fx.runtime();
    await second.deliver(inbound(agent, alice, 'rolled back'));
    await waitFor('running', () => second.stats().running === 1);
    await second.stop({ signal: AbortSignal.abort() });
    expect(await fx.storage.kv(agent.index).get('seen:rolled back')).toBeUndefined();
    expect(await fx.storage.inbox.pending(agent.index)).toHaveLength(1);

    hold.block = false;
    await fx.runtime();
    await waitFor('served by the third start', async () => (await fx.dmsTo(alice)).length === 2);
    expect(await fx.dmsTo(alice)).toEqual(['ok graceful', 'ok rolled back']);
  });
});
