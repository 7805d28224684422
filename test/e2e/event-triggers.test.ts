/**
 * Event triggers end to end, the real CLI as child processes: a watch for `#t` "deploy" kind 1
 * notes and a webhook are added with the daemon stopped; the daemon starts before its relay (so
 * /readyz answers 503, then 200 once the relay is up); a matching note and a signed webhook each
 * make exactly one tick, a replayed webhook and a republished note none; the metrics counters say
 * so; every stderr line is one JSON object with the stable fields.
 */
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { signBody } from '../../src/control/webhook-signature.js';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, startTestRelay, stopAll, tempHome, testPool } from '../helpers/daemon.js';
import { scrape } from '../helpers/prometheus.js';
import { stranger } from '../runtime/helpers.js';

afterAll(stopAll);

/** A port nothing listens on now (the relay starts on it later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('watches and webhooks through the daemon', () => {
  it('one tick per matching note and per signed webhook, none for replays; metrics and /readyz follow', { timeout: 120_000 }, async () => {
    await loadFastCrypto();
    const port = await freePort();
    const relayUrl = `ws://127.0.0.1:${port}`;
    const home = tempHome({ relays: [relayUrl], log: { level: 'info', json: true } });
    const env = { AGENT_MNEMONIC: TEST_MNEMONIC };
    expect((await runCli(['create', 'echo', '--behavior', 'echo', '--home', home], { env })).code).toBe(0);

    const tooBroad = await runCli(['watch', 'echo', 'add', '--filter', '{"kinds":[1]}', '--home', home], { env });
    expect(tooBroad.code).toBe(2);
    expect(tooBroad.stderr).toMatch(/too broad/);
    const watch = await runCli(['watch', 'echo', 'add', '--filter', '{"kinds":[1],"#t":["deploy"]}', '--prompt', 'tell me about deploys', '--home', home, '--json'], { env });
    expect(watch.code).toBe(0);
    expect(JSON.parse(watch.stdout)).toMatchObject({ id: 'w1', filter: { kinds: [1], '#t': ['deploy'] } });
    const hook = await runCli(['hook', 'echo', 'add', 'ci', '--home', home, '--json'], { env });
    expect(hook.code).toBe(0);
    const { secret, path } = JSON.parse(hook.stdout) as { secret: string; path: string };
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect((await runCli(['hook', 'echo', 'list', '--home', home], { env })).stdout).not.toContain(secret);

    const daemon = startCli(['run', '--home', home, '--metrics-port', '0', '--hooks-port', '0'], env);
    const ready = await daemon.waitFor(/daemon ready: .* metrics (http:\S+?)\/metrics, hooks (http:\S+?)\/hooks/);
    const [, ops, hooks] = ready as unknown as [string, string, string];

    // Started before its relay: alive, not ready, and says why.
    expect((await fetch(`${ops}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${ops}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ ready: false, checks: { relays: { ok: false, detail: 'no relay connected for echo' } } });
    const relay = await startTestRelay({ port });
    await eventually(async () => (await fetch(`${ops}/readyz`)).status === 200, 30_000, '/readyz 200 once the relay is up');
    const status = JSON.parse((await runCli(['status', '--home', home, '--json'], { env })).stdout) as { ready: boolean; checks: Record<string, { ok: boolean }> };
    expect(status).toMatchObject({ ready: true, checks: { database: { ok: true }, relays: { ok: true }, wakeLoop: { ok: true } } });

    // With the daemon up, the commands go through its control API (routes /v1/agents/<name>/watches|hooks).
    const listed = JSON.parse((await runCli(['watch', 'echo', 'list', '--json', '--home', home], { env })).stdout) as Array<{ id: string }>;
    expect(listed.map((w) => w.id)).toEqual(['w1']);
    const second = JSON.parse((await runCli(['hook', 'echo', 'add', 'pager', '--json', '--home', home], { env })).stdout) as { url: string };
    expect(second.url).toBe(`${hooks}/hooks/echo/pager`);
    const pool = testPool(relay.url);
    const author = stranger(0x7d);
    const deploy = author.signEvent({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [['t', 'deploy']], content: 'v1.2 is out' });
    const chatter = author.signEvent({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [['t', 'lunch']], content: 'pizza?' });
    for (const e of [deploy, chatter]) expect((await pool.publish(e))[0]).toMatchObject({ ok: true });

    const body = JSON.stringify({ pipeline: 'main', status: 'passed' });
    const headers = { 'content-type': 'application/json', 'x-signature-256': signBody(secret, body), 'x-delivery-id': 'build-7' };
    const accepted = await fetch(`${hooks}${path}`, { method: 'POST', body, headers });
    expect(accepted.status).toBe(202);
    const replay = await fetch(`${hooks}${path}`, { method: 'POST', body, headers });
    expect(replay.status).toBe(409);
    const forged = await fetch(`${hooks}${path}`, { method: 'POST', body, headers: { ...headers, 'x-signature-256': signBody('0'.repeat(64), body), 'x-delivery-id': 'build-8' } });
    expect(forged.status).toBe(401);
    // The note again (relay-dev answers duplicate; a second relay delivery is deduplicated anyway).
    await pool.publish(deploy);

    const metrics = await eventually(async () => {
      const s = await scrape(`${ops}/metrics`);
      return s.value('agent_ticks_total', { agent: 'echo', trigger: 'event', outcome: 'ok' }) >= 2 ? s : undefined;
    }, 30_000, 'two event ticks');
    expect(metrics.value('agent_ticks_total', { agent: 'echo', trigger: 'event' })).toBe(2);
    expect(metrics.value('agent_watch_events_total', { agent: 'echo', outcome: 'queued' })).toBe(1);
    expect(metrics.value('agent_webhook_requests_total', { agent: 'echo', outcome: 'accepted' })).toBe(1);
    expect(metrics.value('agent_webhook_requests_total', { agent: 'echo', outcome: 'replay' })).toBe(1);
    expect(metrics.value('agent_webhook_requests_total', { agent: 'echo', outcome: 'bad-signature' })).toBe(1);
    expect(metrics.value('agent_relay_connected', { relay: relayUrl })).toBe(1);

    const logs = (await runCli(['logs', 'echo', '--json', '--home', home], { env })).stdout.trim().split('\n').map((l) => JSON.parse(l) as { trigger: string; outcome: string });
    expect(logs.filter((t) => t.trigger === 'event').map((t) => t.outcome)).toEqual(['ok', 'ok']);

    expect(await daemon.stop('SIGTERM')).toBe(0);
    const lines = daemon.stderr().trim().split('\n');
    for (const line of lines) expect(Object.keys(JSON.parse(line)).slice(0, 4)).toEqual(['time', 'level', 'ns', 'msg']);
    expect(lines.map((l) => JSON.parse(l) as { ns: string; trigger?: string; agent?: string }).filter((r) => r.ns === 'tick' && r.trigger === 'event').map((r) => r.agent)).toEqual(['echo', 'echo']);
    expect(daemon.stderr()).not.toContain(secret);
  });
});
