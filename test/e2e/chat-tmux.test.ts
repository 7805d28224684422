/**
 * `agent chat` in a real terminal: `agent up` in a temp home (which generates the owner mnemonic),
 * then the UI inside tmux (fixed 120×40 window), driven with send-keys and read with capture-pane.
 * The messages are real NIP-17 DMs from the owner key through the embedded relay; the assistant's
 * replies come back the same way. Needs tmux (.ci/run installs it when missing).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_BIN, runCli } from '../helpers/cli.js';
import { startCli, stopAll, tempHome, type CliProcess } from '../helpers/daemon.js';

const SOCKET = `agent-chat-e2e-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Starts `agent chat …args` in a new tmux session; the shell prints the exit code when it ends. */
function openChat(session: string, home: string, args: string[] = []): void {
  // Ink prints only finished lines when it thinks it runs in CI: the terminal here is real, so unset CI.
  const command = [
    'env -u CI -u CONTINUOUS_INTEGRATION',
    `AGENT_HOME=${quote(home)}`,
    quote(process.execPath),
    quote(AGENT_BIN),
    'chat',
    ...args.map(quote),
    '; echo "chat exited $?"; sleep 120',
  ].join(' ');
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', command);
}

const screen = (session: string): string => tmux('capture-pane', '-p', '-t', session);

/** Polls the screen until `check` passes; fails with the last screen. */
async function waitScreen(session: string, check: (text: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = screen(session);
    if (check(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${last}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** True when a line after the owner's `asked` line is the assistant's and says `word`. */
function answered(text: string, asked: string, word: string): boolean {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => / you +/.test(l) && l.includes(asked));
  return at >= 0 && lines.slice(at + 1).some((l, i, rest) => l.includes(word) && rest.slice(0, i + 1).some((r) => / assistant +/.test(r)));
}

let up: CliProcess | undefined;
let home = '';

beforeAll(() => {
  const probe = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error('tmux is needed for this test: apt-get install -y tmux (.ci/run does it)');
});

afterAll(async () => {
  spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
  await stopAll();
});

describe('agent chat in a real terminal', () => {
  it('says plainly that the daemon is not running, and how to start it, instead of hanging', async () => {
    const empty = tempHome();
    const result = await runCli(['chat'], { env: { AGENT_HOME: empty }, timeoutMs: 15_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/The agent daemon is not running/);
    expect(result.stderr).toContain('`agent up`');
    const help = await runCli(['chat', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Ctrl+T trajectory');
    const extra = await runCli(['chat', 'one', 'two', '--home', empty]);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('agent chat takes at most one agent, got 2');
  });

  it('talks to the assistant over NIP-17: remember, recall, the trajectory view; history on reopen; daemon loss shown', async () => {
    home = tempHome();
    up = startCli(['up', '--port', '0'], { AGENT_HOME: home });
    await up.waitFor(/agent up: ready/, 60_000);

    // Scripts get a clear refusal, not a hung terminal UI.
    const piped = await runCli(['chat'], { env: { AGENT_HOME: home } });
    expect(piped.code).toBe(2);
    expect(piped.stderr).toMatch(/needs an interactive terminal/);
    const unknown = await runCli(['chat', 'nosuch'], { env: { AGENT_HOME: home } });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no agent named "nosuch" (agents: assistant)');

    openChat('one', home);
    const first = await waitScreen('one', (s) => s.includes('chat with assistant') && s.includes('relays 1/1'), 'the chat screen');
    expect(first).toMatch(/› assistant +[●○] (active|dormant)/);
    expect(first).toContain('Ctrl+T trajectory');

    tmux('send-keys', '-t', 'one', '-l', 'remember the sky is green');
    tmux('send-keys', '-t', 'one', 'Enter');
    await waitScreen('one', (s) => answered(s, 'remember the sky is green', 'green'), 'the reply to "remember"');
    tmux('send-keys', '-t', 'one', '-l', 'recall sky');
    tmux('send-keys', '-t', 'one', 'Enter');
    const recalled = await waitScreen('one', (s) => answered(s, 'recall sky', 'green'), 'the reply to "recall sky" naming green');
    expect(recalled).not.toContain('(sending…)');

    tmux('send-keys', '-t', 'one', 'C-t');
    const trajectory = await waitScreen('one', (s) => s.includes('trajectory of assistant') && s.includes('"recall sky"'), 'the trajectory view');
    expect(trajectory).toMatch(/#\d+ +\d\d:\d\d:\d\d +dm +ok +\d+ms +"recall sky"/);
    expect(trajectory).toMatch(/think +assistant\.onMessage/);
    tmux('send-keys', '-t', 'one', 'C-t');
    await waitScreen('one', (s) => !s.includes('trajectory of assistant'), 'the chat again');
    tmux('send-keys', '-t', 'one', 'C-c');
    await waitScreen('one', (s) => s.includes('chat exited 0'), 'the UI to quit with status 0');

    // Reopened, the conversation continues where it left off (history from the local store).
    openChat('two', home, ['assistant']);
    const reopened = await waitScreen('two', (s) => answered(s, 'recall sky', 'green') && s.includes('relays 1/1'), 'the stored conversation');
    expect(reopened.indexOf('remember the sky is green')).toBeLessThan(reopened.indexOf('recall sky'));

    // Shrunk to 80×24, it lays out again and reprints the transcript at the new width.
    tmux('resize-window', '-t', 'two', '-x', '80', '-y', '24');
    const narrow = await waitScreen(
      'two',
      (s) => s.includes(`╰${'─'.repeat(78)}╯`) && s.includes('Tab pane ·') && answered(s, 'recall sky', 'green'),
      'the 80-column layout',
    );
    expect(narrow).toMatch(/^── assistant · npub1.*─$/m);

    // The daemon goes away: the UI says so and how to start it again.
    expect(await up.stop('SIGINT')).toBe(0);
    await waitScreen('two', (s) => s.includes('The agent daemon is not running') && s.includes('`agent up`'), 'the daemon-down banner');
    tmux('send-keys', '-t', 'two', 'C-c');
    await waitScreen('two', (s) => s.includes('chat exited 0'), 'the UI to quit');
  });
});
