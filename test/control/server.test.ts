/** The control API's HTTP contract: token, routing, validation, errors and the SSE stream. */
import { afterEach, describe, expect, it } from 'vitest';
import { ControlClient } from '../../src/control/client.js';
import { startControlServer, type RunningControlServer } from '../../src/control/server.js';
import { ControlError, type AgentSummary, type ControlHandler } from '../../src/control/types.js';
import { RuntimeEvents } from '../../src/runtime/events.js';
import type { TickRecord } from '../../src/trajectory/types.js';

const agent: AgentSummary = {
  name: 'echo', index: 0, account: 1, publicKey: 'a'.repeat(64), npub: 'npub1x', behavior: 'echo', state: 'dormant',
  relays: [], ticks: 0, failures: 0, consecutiveFailures: 0, storageBytes: 0,
};

function tick(seq: number): TickRecord {
  return {
    agentPubkey: agent.publicKey, seq, startedAt: seq, endedAt: seq + 1, trigger: { type: 'manual', at: seq }, steps: [],
    tokens: { input: 0, output: 0 }, budget: { computeMs: 1, llmCalls: 0, tokens: 0 }, outcome: 'ok', sentEventIds: [],
  };
}

/** A handler over one in-memory agent: enough to exercise the HTTP layer, which is what is under test. */
function handler(events: RuntimeEvents): ControlHandler & { actions: string[] } {
  const actions: string[] = [];
  return {
    actions,
    overview: () => ({ pid: process.pid, startedAt: 1, owner: { publicKey: 'b'.repeat(64), npub: 'npub1o' }, relays: [], agents: [agent], awake: 0 }),
    agent: (ref) => (ref === 'echo' ? agent : undefined),
    create: async (req) => ({ ...agent, name: req.name, behavior: req.behavior }),
    act: async (ref, action) => {
      if (ref !== 'echo') throw new ControlError(`no agent named "${ref}"`, 404);
      actions.push(action);
      return { ...agent, state: action === 'pause' ? 'paused' : 'active' };
    },
    poke: async () => ({ inboxId: 7 }),
    ticks: (ref, limit) => (ref === 'echo' ? Array.from({ length: Math.min(limit, 2) }, (_, i) => tick(i + 1)) : []),
    subscribe: (listener) => events.subscribe(listener),
  };
}

let server: RunningControlServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('control API', () => {
  it('refuses a missing or wrong token', async () => {
    server = await startControlServer({ handler: handler(new RuntimeEvents()), token: 'secret-token' });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${server.url}/v1/overview`)).status).toBe(401);
    await expect(new ControlClient(server.url, 'wrong-token!').overview()).rejects.toMatchObject({ status: 401 });
    expect((await new ControlClient(server.url, 'secret-token').overview()).agents).toHaveLength(1);
  });

  it('routes agent calls, validates bodies and maps errors to statuses', async () => {
    const h = handler(new RuntimeEvents());
    server = await startControlServer({ handler: h, token: 't' });
    const client = new ControlClient(server.url, 't');
    expect((await client.agent('echo')).name).toBe('echo');
    await expect(client.agent('nope')).rejects.toThrow(/no agent named "nope"/);
    expect((await client.act('echo', 'pause')).state).toBe('paused');
    expect(h.actions).toEqual(['pause']);
    await expect(client.act('ghost', 'resume')).rejects.toMatchObject({ status: 404 });
    expect(await client.poke('echo', 'hi')).toEqual({ inboxId: 7 });
    expect((await client.ticks('echo', 5)).map((t) => t.seq)).toEqual([1, 2]);
    await expect(client.ticks('echo', 0)).rejects.toMatchObject({ status: 400 });
    await expect(client.create({ name: 'bad name!', behavior: 'echo' })).rejects.toMatchObject({ status: 400 });
    expect((await client.create({ name: 'helper', behavior: 'assistant' })).behavior).toBe('assistant');
    const raw = await fetch(`${server.url}/v1/agents`, { method: 'POST', headers: { authorization: 'Bearer t' }, body: '{not json' });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual({ error: 'request body is not valid JSON' });
  });

  it('streams runtime events as server-sent events', async () => {
    const events = new RuntimeEvents();
    server = await startControlServer({ handler: handler(events), token: 't' });
    const client = new ControlClient(server.url, 't');
    const controller = new AbortController();
    const received: string[] = [];
    const reading = (async () => {
      try {
        for await (const event of client.events({ signal: controller.signal })) {
          received.push(event.type);
          if (received.length === 2) controller.abort();
        }
      } catch (error) {
        if (!controller.signal.aborted) throw error;
      }
    })();
    const deadline = Date.now() + 5000;
    while (events.listenerCount === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    events.emit({ type: 'agent.woke', agent: agent.publicKey, at: 1 });
    events.emit({ type: 'agent.slept', agent: agent.publicKey, at: 2 });
    await reading;
    expect(received).toEqual(['agent.woke', 'agent.slept']);
  });
});
