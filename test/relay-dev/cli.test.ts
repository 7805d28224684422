/** `agent relay` as a real child process: listening line, clean SIGTERM, and durability across SIGKILL. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { scrape } from '../helpers/prometheus.js';
import { RawClient } from './client.js';
import { alice, sign, T0, waitFor } from './fixtures.js';

const BIN = join(import.meta.dirname, '../../bin/agent.js');
const children: ChildProcess[] = [];
const clients: RawClient[] = [];
const dirs: string[] = [];

interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[], home: string): Started {
  const child = spawn(process.execPath, [BIN, 'relay', ...args], { env: { ...process.env, AGENT_HOME: home }, stdio: 'pipe' });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function listening(s: Started): Promise<string> {
  return waitFor(() => /relay listening on (ws:\/\/127\.0\.0\.1:\d+)/.exec(s.stdout())?.[1], 20_000, `listening line (stderr: ${s.stderr()})`);
}

function tempHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'agent-relay-cli-'));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  if (!existsSync(join(import.meta.dirname, '../../dist/src/cli/main.js'))) throw new Error('run `npm run build` before the CLI tests');
  await loadFastCrypto();
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('agent relay', () => {
  it('serves events written with --db after the process is killed with SIGKILL and restarted', async () => {
    const home = tempHome();
    const db = join(home, 'data', 'relay.db');
    const first = run(['--port', '0', '--db', db], home);
    const url = await listening(first);
    const port = Number(url.split(':').pop());
    const c = await RawClient.connect(url);
    const events = Array.from({ length: 25 }, (_, i) => sign(alice, { kind: 1, created_at: T0 + i, content: `durable ${i}` }));
    for (const e of events) expect(await c.publish(e)).toEqual([true, '']);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    await c.close();

    const second = run(['--port', String(port), '--db', db], home);
    expect(await listening(second)).toBe(url);
    const c2 = await RawClient.connect(url);
    clients.push(c2);
    const got = await c2.req('all', { authors: [alice.pk] });
    expect(got.events.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
  });

  it('defaults the database to <home>/relay.db and shuts down cleanly on SIGTERM', async () => {
    const home = tempHome();
    const s = run(['--port', '0'], home);
    const url = await listening(s);
    expect(s.stdout()).toContain(join(home, 'relay.db'));
    const c = await RawClient.connect(url);
    await c.publish(sign(alice, { kind: 1, content: 'bye' }));
    s.child.kill('SIGTERM');
    expect(await s.exited).toEqual({ code: 0, signal: null });
    await waitFor(() => c.closedWith, 10_000, 'socket close');
    expect(c.closedWith).toEqual({ code: 1001, reason: 'relay shutting down' });
    expect(s.stderr()).toMatch(/stopped/);
    expect(existsSync(join(home, 'relay.db'))).toBe(true);
  });

  it('prints JSON with --json and keeps nothing on disk with --memory; --auth/--withhold/--auth-keys set its NIP-42 habit', async () => {
    const home = tempHome();
    const s = run(['--port', '0', '--memory', '--json', '--auth', 'on-demand', '--withhold', 'mixed', '--auth-keys', '1'], home);
    const line = await waitFor(() => s.stdout().split('\n').find((l) => l.startsWith('{')), 20_000, 'json line');
    const info = JSON.parse(line) as { url: string; port: number; db: string };
    expect(info.url).toBe(`ws://127.0.0.1:${info.port}`);
    expect(info.db).toBe('memory');
    // `agent relay` serves its Prometheus metrics on its own port.
    const metrics = await scrape(`http://127.0.0.1:${info.port}/metrics`);
    expect(metrics.type('relay_events_total')).toBe('COUNTER');
    // on-demand: no challenge on connect; mixed: a REQ of private kinds only is refused (the challenge first).
    const c = await RawClient.connect(info.url, { challenge: false });
    clients.push(c);
    expect((await c.req('pub', { kinds: [1] })).events).toEqual([]);
    expect((await c.req('mixed', { kinds: [1059] }, { kinds: [1] })).closed).toBeUndefined();
    expect((await c.req('dm', { kinds: [1059] })).closed).toMatch(/^auth-required: /);
    expect(c.received.map((m) => m[0])).toEqual(['EOSE', 'EOSE', 'AUTH', 'CLOSED']);
    s.child.kill('SIGINT');
    expect((await s.exited).code).toBe(0);
    expect(existsSync(join(home, 'relay.db'))).toBe(false);
  });

  it('rejects bad usage with exit 2 and one line naming the problem', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--db', 'x', '--memory'], /--db and --memory/],
      [['--port', 'abc'], /--port must be a non-negative integer/],
      [['--port', '70000'], /--port must be at most 65535/],
      [['--public-url', 'http://x'], /--public-url must be a ws/],
      [['--bogus'], /bogus/],
      [['--auth', 'sometimes'], /--auth must be one of on-connect, on-demand, required, off/],
    ];
    for (const [args, message] of cases) {
      const r = spawnSync(process.execPath, [BIN, 'relay', ...args], { encoding: 'utf8', env: { ...process.env, AGENT_HOME: tempHome() } });
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });

  it('exits 1 with a clear message when the port is taken', async () => {
    const home = tempHome();
    const s = run(['--port', '0', '--memory'], home);
    const url = await listening(s);
    const port = url.split(':').pop()!;
    const r = spawnSync(process.execPath, [BIN, 'relay', '--port', port, '--memory'], { encoding: 'utf8', env: { ...process.env, AGENT_HOME: home } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/already in use/);
  });
});
