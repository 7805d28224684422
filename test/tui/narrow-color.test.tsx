/**
 * The chat UI in a small terminal (80×24, and 60 columns) and with colors off (NO_COLOR): nothing
 * wider than the terminal, the live area shorter than it, and no color codes when colors are off.
 * Ink is rendered directly here (ink-testing-library's terminal is fixed at 100 columns).
 */
import { EventEmitter } from 'node:events';
import { render, type Instance } from 'ink';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChatApp } from '../../src/tui/App.js';
import { colorsWanted } from '../../src/tui/terminal.js';
import { agentSummary, FakeDaemon, KEYS, MemoryTransport, tickRecord, waitFor } from './helpers.js';

// Force color support before Ink's color library loads, so "colors off" is tested against "on".
vi.hoisted(() => {
  process.env.FORCE_COLOR = '3';
});

class Terminal extends EventEmitter {
  frames: string[] = [];
  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    super();
  }
  write = (frame: string): boolean => (this.frames.push(frame), true);
  last = (): string => this.frames.at(-1) ?? '';
}

class Keyboard extends EventEmitter {
  isTTY = true;
  #data: string | null = null;
  write(data: string): void {
    this.#data = data;
    this.emit('readable');
    this.emit('data', data);
  }
  read = (): string | null => {
    const data = this.#data;
    this.#data = null;
    return data;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

const ANSI = /\u001b\[[0-9;]*m/g;
const COLOR_CODE = /\u001b\[(?:3[0-79]|4[0-79]|9[0-7]|10[0-7]|38;|48;)[0-9;]*m/;

let daemon: FakeDaemon | undefined;
let instance: Instance | undefined;
afterEach(async () => {
  instance?.unmount();
  instance = undefined;
  await daemon?.close();
  daemon = undefined;
});

async function show(columns: number, rows: number, color: boolean) {
  const assistant = agentSummary('assistant-with-a-long-name', 0, { state: 'active', budget: { computeMs: 3_000_000, llmCalls: 450, tokens: 10, sats: 0, limits: {} } });
  const others = ['echo', 'helper', 'watcher', 'scheduler'].map((name, i) => agentSummary(name, i + 1));
  daemon = await new FakeDaemon([assistant, ...others]).start();
  const transport = new MemoryTransport();
  transport.histories.set(assistant.publicKey, [{ id: 'h1', from: 'agent', text: `a long stored answer ${'that wraps '.repeat(20)}zzz`, at: Date.now() - 1000 }]);
  const stdout = new Terminal(columns, rows);
  const stdin = new Keyboard();
  instance = render(<ChatApp control={daemon.control} transport={transport} pollMs={100} color={color} />, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  await waitFor(() => stdout.last().includes('zzz'), stdout.last);
  return { stdout, stdin, assistant, transport };
}

/** The frame's lines without color codes. */
const lines = (frame: string): string[] => frame.replace(ANSI, '').split('\n');

describe('agent chat in small terminals and without colors', () => {
  it('fits 80×24: no line wider than 80 columns, the live area shorter than 24 rows', async () => {
    const { stdout, stdin, assistant } = await show(80, 24, true);
    stdin.write('a message typed into a narrow terminal that is longer than the input line can show at once');
    await waitFor(() => stdout.last().includes('at once'), stdout.last);
    for (const line of lines(stdout.last())) expect([...line].length, line).toBeLessThanOrEqual(80);
    const all = lines(stdout.last());
    const live = all.slice(all.findIndex((l) => l.startsWith('╭')));
    expect(live.length).toBeLessThan(24);
    expect(stdout.last()).toContain('Ctrl+C quit');
    // The trajectory view uses the height there is, and still fits.
    await waitFor(() => daemon!.events.listenerCount > 0, stdout.last);
    for (let seq = 1; seq <= 6; seq++) {
      const record = tickRecord(assistant, seq, `question number ${seq}`);
      daemon!.emit({ type: 'tick.finished', agent: assistant.publicKey, at: record.endedAt, record });
    }
    stdin.write(KEYS.ctrlT);
    await waitFor(() => stdout.last().includes('"question number 6"'), stdout.last);
    const traj = lines(stdout.last());
    for (const line of traj) expect([...line].length, line).toBeLessThanOrEqual(80);
    expect(traj.slice(traj.findIndex((l) => l.startsWith('╭'))).length).toBeLessThan(24);
    expect(stdout.last()).toMatch(COLOR_CODE);
  });

  it('hides the agent list below 70 columns; ↑/↓ still switch agents', async () => {
    const { stdout, stdin } = await show(60, 24, true);
    expect(stdout.last()).not.toContain('agents');
    for (const line of lines(stdout.last())) expect([...line].length, line).toBeLessThanOrEqual(60);
    stdin.write(KEYS.down);
    await waitFor(() => stdout.last().includes('chat with echo'), stdout.last);
  });

  it('prints no color codes when colors are off, and still marks state and focus in words and symbols', async () => {
    const { stdout, stdin } = await show(80, 24, false);
    expect(stdout.last()).not.toMatch(COLOR_CODE);
    expect(stdout.last()).toMatch(/● active/);
    stdin.write(KEYS.tab);
    await waitFor(() => stdout.last().includes('▸ agents'), stdout.last);
    expect(stdout.last()).not.toMatch(COLOR_CODE);
  });

  it('reads NO_COLOR as https://no-color.org says (set and non-empty), and TERM=dumb', () => {
    expect(colorsWanted({})).toBe(true);
    expect(colorsWanted({ NO_COLOR: '1' })).toBe(false);
    expect(colorsWanted({ NO_COLOR: '' })).toBe(true);
    expect(colorsWanted({ TERM: 'dumb' })).toBe(false);
  });
});
