/** The README's main job: `agent up` on an empty home, then talking to the assistant with `agent send`. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startCli, stopAll, tempHome } from '../helpers/daemon.js';

afterAll(stopAll);

describe('agent up', () => {
  it('creates a mnemonic and an assistant on first run, and the assistant remembers and recalls', async () => {
    const home = tempHome();
    const up = startCli(['up', '--home', home, '--port', '0']);
    await up.waitFor(/agent up: ready/);
    const out = up.stdout();
    expect(out).toMatch(/A new owner mnemonic was created and written to .*keys/);
    expect(out).toMatch(/BACK IT UP/);
    expect(out).toMatch(/assistant\s+npub1/);
    expect(out).toMatch(/agent chat/);
    expect(out).toMatch(/agent send assistant/);
    const keys = join(home, 'keys');
    expect(statSync(keys).mode & 0o777).toBe(0o600);
    // The agents' memory and the relay's events are the owner's alone.
    expect(statSync(join(home, 'agents.db')).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'relay.db')).mode & 0o777).toBe(0o600);
    const mnemonic = /mnemonic = (.+)/.exec(readFileSync(keys, 'utf8'))![1]!;
    // The mnemonic is written to the keys file, never printed or logged.
    expect(out + up.stderr()).not.toContain(mnemonic);

    const remember = await runCli(['send', 'assistant', 'remember the cat is called Miso', '--home', home, '--timeout', '20'], { timeoutMs: 40_000 });
    expect(remember.stderr).toBe('');
    expect(remember.code).toBe(0);
    expect(remember.stdout).toMatch(/Miso/);
    const recall = await runCli(['send', 'assistant', 'recall cat', '--home', home, '--timeout', '20', '--json'], { timeoutMs: 40_000 });
    expect(recall.code).toBe(0);
    const answer = JSON.parse(recall.stdout);
    expect(answer.reply).toContain('Miso');
    expect(answer.accepted).toHaveLength(1);

    const status = await runCli(['status', 'assistant', '--home', home, '--json']);
    const agent = JSON.parse(status.stdout).agent;
    expect(agent.ticks).toBeGreaterThanOrEqual(3);
    expect(agent.relays[0]).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(JSON.parse(status.stdout).relays[0].state).toBe('connected');

    expect(await up.stop('SIGINT')).toBe(0);
    expect(existsSync(join(home, 'control.json'))).toBe(false);
    expect(up.stderr()).not.toContain(mnemonic);
  });
});
