/**
 * SQLite is single-daemon: a second `agent run` on the same home refuses to start, whether the first
 * one is running, starting at the same instant or frozen; a daemon killed with SIGKILL leaves no stale
 * lock behind.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_MNEMONIC, startCli, startTestRelay, stopAll, tempHome, type CliProcess } from '../helpers/daemon.js';

afterAll(stopAll);

const REFUSAL = /another daemon(?: \(pid (\d+)\))? is running on the SQLite database .*agents\.db: SQLite runs one daemon per home/;

/** Resolves with 'ready' or the exit code, whichever comes first. */
async function outcome(p: CliProcess): Promise<'ready' | number | null> {
  return Promise.race([p.waitFor(/daemon ready/, 30_000).then(() => 'ready' as const), new Promise<number | null>((resolve) => p.child.on('exit', resolve))]);
}

describe('one daemon per SQLite home', () => {
  it('refuses a second daemon (started at once, or while the first is frozen) and starts after a SIGKILL', { timeout: 60_000 }, async () => {
    const relay = await startTestRelay();
    const home = tempHome({ relays: [relay.url] });
    const env = { AGENT_MNEMONIC: TEST_MNEMONIC };

    const pair = [startCli(['run', '--home', home], env), startCli(['run', '--home', home], env)];
    const results = await Promise.all(pair.map(outcome));
    expect(results.filter((r) => r === 'ready')).toHaveLength(1);
    expect(results.filter((r) => r === 2)).toHaveLength(1);
    const first = pair[results.indexOf('ready')]!;
    const loser = pair[results.indexOf(2)]!;
    // Started together, the loser meets either refusal: the database lock, or (when the winner is
    // ready first, which a faster start makes likelier) the running daemon's control API.
    expect(loser.stderr()).toMatch(new RegExp(`${REFUSAL.source}|a daemon is already running for \\S+ \\(pid \\d+\\); stop it first`));

    // Frozen: its control API does not answer, but it still holds the database.
    first.child.kill('SIGSTOP');
    const third = startCli(['run', '--home', home, '--json'], env);
    expect(await outcome(third)).toBe(2);
    expect(JSON.parse(third.stderr().trim())).toMatchObject({ code: 'DAEMON_RUNNING', error: expect.stringMatching(REFUSAL) });
    expect(third.stderr()).toContain(`(pid ${first.child.pid})`);
    first.child.kill('SIGCONT');

    // Killed without a chance to clean up: the OS dropped the lock with the process.
    expect(await first.stop('SIGKILL')).toBe(null);
    const fourth = startCli(['run', '--home', home], env);
    expect(await outcome(fourth)).toBe('ready');
    expect(await fourth.stop('SIGTERM')).toBe(0);
  });
});
