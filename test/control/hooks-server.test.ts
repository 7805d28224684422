/**
 * The webhook listener over a real runtime and SQLite: 202 only with the trigger row committed (and
 * one tick, seen by onWebhook), 401 wrong or missing signature, 413 over the limit, 400 bad JSON or
 * no delivery id, 404 unknown hook, 409 for a replayed delivery id or a replayed signed body, 429
 * past the hook's rate. Nothing but the 202 leaves a row.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHooksServer, type RunningHooksServer } from '../../src/control/hooks-server.js';
import { signBody } from '../../src/control/webhook-signature.js';
import { defineAgent } from '../../src/behaviors/define-agent.js';
import { parseAgentConfig } from '../../src/runtime/agent-config.js';
import type { Runtime } from '../../src/runtime/engine.js';
import type { WebhookDelivery } from '../../src/runtime/types.js';
import { RuntimeFixture, waitFor } from '../runtime/helpers.js';

const SECRET = 'ab'.repeat(32);
let fx: RuntimeFixture;
let server: RunningHooksServer | undefined;
const seen: WebhookDelivery[] = [];
const outcomes: Array<[string | undefined, string]> = [];

beforeEach(() => {
  fx = new RuntimeFixture();
  seen.length = 0;
  outcomes.length = 0;
  fx.define(defineAgent({ name: 'hooked', about: 'records webhooks', onWebhook: (_ctx, d) => void seen.push(d) }));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await fx.close();
});

async function start(runtime: Runtime, options: { maxBodyBytes?: number; perMinute?: number } = {}): Promise<string> {
  server = await startHooksServer({
    maxBodyBytes: options.maxBodyBytes ?? 1024,
    rate: { capacity: options.perMinute ?? 60, windowMs: 60_000 },
    now: () => fx.clock.now(),
    handler: {
      secretOf: async (agent, hook) => {
        const record = await fx.storage.agents.get(agent);
        return record ? parseAgentConfig({ ...record.config, behavior: record.behavior }).hooks.find((h) => h.name === hook)?.secret : undefined;
      },
      deliver: (agent, input) => runtime.deliverWebhook(agent, input),
      observe: (agent, outcome) => outcomes.push([agent, outcome]),
    },
  });
  return server.url;
}

function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
}

const signed = (body: string, id: string, secret = SECRET): Record<string, string> => ({ 'x-signature-256': signBody(secret, body), 'x-delivery-id': id });

describe('webhook listener', () => {
  it('accepts a signed JSON delivery once (202 after commit), refuses replays and every bad request', async () => {
    const runtime = await fx.runtime();
    const agent = await fx.agent(runtime, 'ci', 'hooked', { hooks: [{ name: 'deploy', secret: SECRET, prompt: 'tell me if it failed' }] });
    const base = await start(runtime);
    const url = `${base}/hooks/ci/deploy`;
    const body = JSON.stringify({ status: 'failed', run: 41 });

    const ok = await post(url, body, signed(body, 'run-41'));
    expect(ok.status).toBe(202);
    const accepted = (await ok.json()) as { accepted: boolean; inboxId: number };
    expect(accepted.accepted).toBe(true);
    // Committed before the answer: the row is there as soon as the 202 is.
    expect(await fx.storage.inbox.get(accepted.inboxId)).toMatchObject({ agentIndex: agent.index, trigger: 'event' });
    await waitFor('the webhook tick', () => seen.length === 1);
    expect(seen[0]).toMatchObject({ hook: 'deploy', deliveryId: 'run-41', body: { status: 'failed', run: 41 }, prompt: 'tell me if it failed' });

    const replayed = await post(url, body, signed(body, 'run-41'));
    expect(replayed.status).toBe(409);
    expect(await replayed.json()).toMatchObject({ code: 'WEBHOOK_REPLAY' });
    // The same signed body under a new delivery id is a replay too (the id is not signed).
    expect((await post(url, body, signed(body, 'run-41-again'))).status).toBe(409);

    const other = JSON.stringify({ status: 'ok', run: 42 });
    const cases: Array<[Promise<Response>, number, string]> = [
      [post(url, other, { 'x-delivery-id': 'run-42' }), 401, 'WEBHOOK_BAD_SIGNATURE'],
      [post(url, other, signed(other, 'run-42', 'cd'.repeat(32))), 401, 'WEBHOOK_BAD_SIGNATURE'],
      [post(url, other, { ...signed(other, 'run-42'), 'x-signature-256': signBody(SECRET, `${other} `) }), 401, 'WEBHOOK_BAD_SIGNATURE'],
      [post(url, 'x'.repeat(1025), signed('x'.repeat(1025), 'big')), 413, 'INPUT_TOO_LARGE'],
      [post(url, '{"status":', signed('{"status":', 'bad-json')), 400, 'WEBHOOK_BAD_REQUEST'],
      [post(url, other, { 'x-signature-256': signBody(SECRET, other) }), 400, 'WEBHOOK_BAD_REQUEST'],
      [post(`${base}/hooks/ci/nope`, other, signed(other, 'run-43')), 404, 'WEBHOOK_NOT_FOUND'],
      [post(`${base}/hooks/nobody/deploy`, other, signed(other, 'run-44')), 404, 'WEBHOOK_NOT_FOUND'],
      [fetch(url), 405, 'WEBHOOK_BAD_REQUEST'],
    ];
    for (const [response, status, code] of cases) {
      const res = await response;
      expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([status, code]);
    }
    await runtime.idle();
    expect(seen).toHaveLength(1);
    expect((await fx.storage.ticks.list(agent.index)).filter((t) => t.trigger.type === 'event')).toHaveLength(1);
    expect(outcomes).toContainEqual(['ci', 'accepted']);
    expect(outcomes).toContainEqual(['ci', 'replay']);
    expect(outcomes).toContainEqual([undefined, 'unknown-hook']);
  });

  it('rate-limits per hook after the signature check (429 with Retry-After), then lets deliveries through again', async () => {
    const runtime = await fx.runtime();
    await fx.agent(runtime, 'ci', 'hooked', { hooks: [{ name: 'deploy', secret: SECRET }] });
    const url = `${await start(runtime, { perMinute: 2 })}/hooks/ci/deploy`;
    const send = (n: number): Promise<Response> => {
      const body = JSON.stringify({ n });
      return post(url, body, signed(body, `d-${n}`));
    };
    expect((await send(1)).status).toBe(202);
    expect((await send(2)).status).toBe(202);
    const limited = await send(3);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Unsigned requests do not use up the hook's rate.
    expect((await post(url, '{}', { 'x-delivery-id': 'x' })).status).toBe(401);
    // Ticks done first: 30 s on the manual clock would pass a running tick's deadline.
    await waitFor('two webhook ticks', () => seen.length === 2);
    await runtime.idle();
    await fx.clock.advance(30_000);
    expect((await send(4)).status).toBe(202);
    await waitFor('three webhook ticks', () => seen.length === 3);
    expect(seen.map((d) => d.deliveryId)).toEqual(['d-1', 'd-2', 'd-4']);
  });
});
