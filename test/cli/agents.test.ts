/** Managing agents with the CLI, with and without a running daemon. */
import { afterAll, describe, expect, it } from 'vitest';
import { startRelay, type RunningRelay } from '../../relay-dev/index.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, stopAll, tempHome } from '../helpers/daemon.js';

const env = { AGENT_MNEMONIC: TEST_MNEMONIC };
let relay: RunningRelay | undefined;
afterAll(async () => {
  await stopAll();
  await relay?.close();
});

describe('agent create, list, status, lifecycle, budget, logs', () => {
  it('works on the database when no daemon runs', async () => {
    const home = tempHome({ relays: ['ws://127.0.0.1:1'] });
    const a = await runCli(['create', 'first', '--behavior', 'echo', '--home', home, '--json'], { env });
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ name: 'first', index: 0, account: 1, relays: ['ws://127.0.0.1:1'] });
    const derived = await runCli(['keys', 'derive', '--agent', '0', '--json'], { env });
    expect(JSON.parse(a.stdout).publicKey).toBe(JSON.parse(derived.stdout).publicKey);
    const b = await runCli(['create', 'second', '--relay', 'ws://127.0.0.1:2', '--policy', 'allowlist', '--home', home, '--json'], { env });
    expect(JSON.parse(b.stdout)).toMatchObject({ index: 1, account: 2, relays: ['ws://127.0.0.1:2'] });

    for (const [args, message] of [
      [['create', 'first'], /already exists/],
      [['create', 'bad name'], /agent name "bad name"/],
      [['create', 'x', '--behavior', 'nope'], /unknown behavior "nope"/],
      [['create', 'x', '--policy', 'sometimes'], /--policy must be one of/],
      [['create', 'x', '--relay', 'http://nope'], /not a relay URL/],
      [['pause', 'ghost'], /no agent named "ghost"/],
      [['budget', 'first', '--tick-seconds', 'zero'], /--tick-seconds must be a positive number/],
    ] as const) {
      const r = await runCli([...args, '--home', home], { env });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
    }

    const list = JSON.parse((await runCli(['list', '--home', home, '--json'])).stdout);
    expect(list.map((x: { name: string; state: string }) => [x.name, x.state])).toEqual([['first', 'creating'], ['second', 'creating']]);
    // creating → paused is not a lifecycle step; terminate is always allowed, and final.
    expect((await runCli(['pause', 'first', '--home', home])).code).toBe(2);
    expect((await runCli(['terminate', 'second', '--home', home])).stdout).toMatch(/second: terminated/);
    expect((await runCli(['resume', 'second', '--home', home])).code).toBe(2);
    const status = JSON.parse((await runCli(['status', 'second', '--home', home, '--json'])).stdout);
    expect(status).toMatchObject({ daemon: 'stopped', agent: { name: 'second', state: 'terminated' } });
    const budget = await runCli(['budget', 'first', '--daily-tokens', '5000', '--home', home]);
    expect(budget.code).toBe(0);
    expect(budget.stdout).toMatch(/tokens/i);
    expect((await runCli(['logs', '--home', home])).code).toBe(0);
  });

  it('goes through the daemon when it runs', { timeout: 60_000 }, async () => {
    relay = await startRelay({ port: 0, verifyThreads: 0 });
    const home = tempHome({ relays: [relay.url] });
    const daemon = startCli(['run', '--home', home], env);
    await daemon.waitFor(/daemon ready/);
    const again = await runCli(['run', '--home', home], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already running/);

    const created = await runCli(['create', 'live', '--behavior', 'echo', '--home', home, '--json'], { env });
    expect(created.code, created.stderr).toBe(0);
    // The daemon ran the create tick (onCreate) right away.
    await eventually(async () => JSON.parse((await runCli(['status', 'live', '--home', home, '--json'])).stdout).agent.ticks >= 1, 20_000, 'the create tick');
    const status = JSON.parse((await runCli(['status', 'live', '--home', home, '--json'])).stdout);
    expect(status.daemon).toBe('running');
    expect(status.relays[0]).toMatchObject({ url: relay.url, state: 'connected' });
    expect((await runCli(['pause', 'live', '--home', home])).stdout).toMatch(/live: paused/);
    expect((await runCli(['pause', 'nobody', '--home', home])).code).toBe(2);
    expect((await runCli(['resume', 'live', '--home', home])).stdout).toMatch(/live: (active|dormant)/);
    const logs = await runCli(['logs', 'live', '--home', home]);
    expect(logs.stdout).toMatch(/live #1 manual → ok/);
    expect(await daemon.stop('SIGINT')).toBe(0);
  });
});
