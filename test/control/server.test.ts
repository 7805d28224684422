/** The control API's HTTP contract: host, token, routing, validation, errors and the SSE stream. */
import { request } from 'node:http';
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
    overview: async () => ({ pid: process.pid, startedAt: 1, owner: { publicKey: 'b'.repeat(64), npub: 'npub1o' }, relays: [], agents: [agent], awake: 0 }),
    agent: async (ref) => (ref === 'echo' ? agent : undefined),
    create: async (req) => ({ ...agent, name: req.name, behavior: req.behavior }),
    act: async (ref, action) => {
      if (ref !== 'echo') throw new ControlError(`no agent named "${ref}"`, 404);
      actions.push(action);
      return { ...agent, state: action === 'pause' ? 'paused' : 'active' };
    },
    poke: async () => ({ inboxId: 7 }),
    ticks: async (ref, limit) => (ref === 'echo' ? Array.from({ length: Math.min(limit, 2) }, (_, i) => tick(i + 1)) : []),
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
    expect(await raw.json()).toEqual({ error: 'request body is not valid JSON', code: 'CONTROL_BAD_REQUEST' });
    // Every error body carries its stable code, and the client keeps it.
    await expect(client.agent('nope')).rejects.toMatchObject({ status: 404, code: 'AGENT_NOT_FOUND' });
    await expect(client.act('ghost', 'resume')).rejects.toMatchObject({ code: 'CONTROL_NOT_FOUND' });
    const unknown = await fetch(`${server.url}/v2/nothing`, { headers: { authorization: 'Bearer t' } });
    expect([unknown.status, ((await unknown.json()) as { code: string }).code]).toEqual([404, 'CONTROL_NOT_FOUND']);
    const denied = await fetch(`${server.url}/v1/overview`);
    expect(await denied.json()).toEqual({ error: 'missing or wrong control token', code: 'CONTROL_UNAUTHORIZED' });
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

/** A raw HTTP request with headers fetch would not let a test set (Host). */
function raw(url: string, path: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('control API: who may ask, and what', () => {
  it('refuses a request for another host (DNS rebinding) before looking at the token', async () => {
    server = await startControlServer({ handler: handler(new RuntimeEvents()), token: 't' });
    const here = new URL(server.url).host;
    const auth = { authorization: 'Bearer t' };
    expect((await raw(server.url, '/v1/overview', { ...auth, host: here })).status).toBe(200);
    for (const host of ['evil.example', `evil.example:${server.port}`, `localhost:${server.port}`, `127.0.0.1:${server.port + 1}`, '127.0.0.1']) {
      const answer = await raw(server.url, '/v1/overview', { ...auth, host });
      expect([host, answer.status]).toEqual([host, 403]);
      expect(JSON.parse(answer.body).error).toMatch(/requests for another host are refused/);
    }
    expect((await raw(server.url, '/v1/overview', { host: 'evil.example' })).status).toBe(403);
    // A browser page on another origin that reached this port under our name is refused too.
    expect((await raw(server.url, '/v1/overview', { ...auth, host: here, origin: 'http://evil.example' })).status).toBe(403);
    expect((await raw(server.url, '/v1/overview', { ...auth, host: here, origin: `http://${here}` })).status).toBe(200);
  });

  it('matches routes exactly: extra, doubled or trailing segments are 404 and reach nothing', async () => {
    const h = handler(new RuntimeEvents());
    server = await startControlServer({ handler: h, token: 't' });
    const call = async (method: string, path: string): Promise<number> => (await fetch(`${server!.url}${path}`, { method, headers: { authorization: 'Bearer t' }, ...(method === 'POST' ? { body: '{}' } : {}) })).status;
    expect(await call('GET', '/v1/overview')).toBe(200);
    for (const path of ['/v1/overview/extra', '/v1/overview/', '/v1//overview', '/v1/agents/echo/ticks/extra', '/v1/agents/echo/x', '/v1/agents//ticks', '/v2/overview', '/v1/events/x']) {
      expect([path, await call('GET', path)]).toEqual([path, 404]);
    }
    for (const path of ['/v1/agents/echo/pause/now', '/v1/agents/echo/pause/', '/v1/agents/echo/explode', '/v1/agents/echo']) {
      expect([path, await call('POST', path)]).toEqual([path, 404]);
    }
    expect(h.actions).toEqual([]);
    expect(await call('POST', '/v1/agents/echo/pause')).toBe(200);
    expect(h.actions).toEqual(['pause']);
    expect(await call('GET', '/v1/agents/%E0%A4%A')).toBe(400);
  });
});
