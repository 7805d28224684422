/**
 * The chat UI rendered with ink-testing-library against the real control server/client (see
 * helpers.ts) and an in-memory ChatTransport: the agent list, sending, replies, the live tick view,
 * the trajectory view, the daemon-down banner and the keys.
 */
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatApp } from '../../src/tui/App.js';
import { clockSeconds } from '../../src/tui/text.js';
import type { ChatControl } from '../../src/tui/types.js';
import { agentSummary, FakeDaemon, KEYS, MemoryTransport, OWNER, tickRecord, waitFor } from './helpers.js';

type Ui = ReturnType<typeof render>;
let daemon: FakeDaemon | undefined;
let ui: Ui | undefined;
afterEach(async () => {
  ui?.unmount();
  ui = undefined;
  await daemon?.close();
  daemon = undefined;
});

const frame = (): string => ui?.lastFrame() ?? '';
const count = (text: string, needle: string): number => text.split(needle).length - 1;
const until = (check: (f: string) => boolean): Promise<void> => waitFor(() => check(frame()), frame);
const shows = (needle: string): Promise<void> => until((f) => f.includes(needle));

async function setup(options: { control?: (c: ChatControl) => ChatControl } = {}) {
  const assistant = agentSummary('assistant', 0, { state: 'active' });
  const echo = agentSummary('echo', 1, { behavior: 'echo' });
  daemon = await new FakeDaemon([assistant, echo]).start();
  const transport = new MemoryTransport();
  const control = options.control ? options.control(daemon.control) : daemon.control;
  ui = render(<ChatApp control={control} transport={transport} pollMs={100} />);
  await shows('chat with assistant');
  return { assistant, echo, transport, daemon };
}

describe('agent chat UI', () => {
  it('lists the agents with state and unread counts, the status bar and the keys', async () => {
    const assistant = agentSummary('assistant', 0, { state: 'active', budget: { computeMs: 1_800_000, llmCalls: 8, tokens: 0, sats: 0, limits: {} } });
    const failed = agentSummary('broken', 2, { state: 'failed' });
    const paused = agentSummary('sleepy', 3, { state: 'paused' });
    const echo = agentSummary('echo', 1, { behavior: 'echo' });
    const gone = agentSummary('retired', 4, { state: 'terminated' });
    daemon = await new FakeDaemon([assistant, echo, failed, paused, gone]).start();
    const transport = new MemoryTransport();
    ui = render(<ChatApp control={daemon.control} transport={transport} pollMs={100} />);
    await shows('sleepy');
    const f = frame();
    expect(f).toMatch(/› assistant\s+● active/);
    expect(f).toMatch(/echo\s+○ dormant/);
    expect(f).toMatch(/broken\s+✗ failed/);
    expect(f).toMatch(/sleepy\s+‖ paused/);
    expect(f).not.toContain('retired'); // terminated agents take no messages and are not offered
    // The selected agent's budget use (defaults apply: 3600 s compute, 500 LLM calls a day).
    expect(f).toMatch(/relays 1\/1 · compute █+░* 50% · llm █░* 1% · tokens ░+ 0%/);
    expect(f).toContain('last tick never');
    for (const key of ['Tab', '↑/↓', 'Enter send', 'Ctrl+T trajectory', 'Ctrl+C quit']) expect(f).toContain(key);

    transport.deliver(echo, 'echo: ping');
    transport.deliver(echo, 'echo: pong');
    await until((x) => /echo\s+○ dormant \(2\)/.test(x));
    expect(frame()).not.toContain('echo: ping');

    daemon.overview = { ...daemon.overview, relays: [...daemon.overview.relays, { url: 'ws://127.0.0.1:1', state: 'disconnected' }] };
    await shows('relays 1/2');
  });

  it('sends what is typed on Enter, shows it as sending, then prints it once when a relay accepted it', async () => {
    const { transport, assistant } = await setup();
    ui!.stdin.write('remember the sky is green');
    await shows('to assistant › remember the sky is green');
    ui!.stdin.write(KEYS.enter);
    await waitFor(() => transport.sent.length === 1, frame);
    expect(transport.sent[0]).toMatchObject({ agent: 'assistant', text: 'remember the sky is green' });
    await shows('remember the sky is green (sending…)');
    expect(frame()).toMatch(/to assistant › \s*│/); // the input line is empty again

    transport.sent[0]!.resolve('rumor-1');
    await until((f) => f.includes('remember the sky is green') && !f.includes('(sending…)'));
    transport.deliver(assistant, 'Noted: the sky is green.');
    await shows('Noted: the sky is green.');
    // Finished lines are printed once (<Static>) however often the live area re-renders.
    daemon!.emit({ type: 'agent.woke', agent: assistant.publicKey, at: Date.now() });
    await new Promise((r) => setTimeout(r, 300));
    expect(count(frame(), 'remember the sky is green')).toBe(1);
    expect(count(frame(), 'Noted: the sky is green.')).toBe(1);
    expect(frame().indexOf('remember the sky is green')).toBeLessThan(frame().indexOf('Noted: the sky is green.'));
  });

  it('says when a message could not be sent, and ignores blank input', async () => {
    const { transport } = await setup();
    ui!.stdin.write('   ');
    ui!.stdin.write(KEYS.enter);
    ui!.stdin.write('hello');
    ui!.stdin.write(KEYS.backspace);
    ui!.stdin.write(KEYS.enter);
    await waitFor(() => transport.sent.length === 1, frame);
    expect(transport.sent.map((s) => s.text)).toEqual(['hell']);
    transport.sent[0]!.reject(new Error('no relay accepted the message for "assistant" (ws://127.0.0.1:7777: blocked: test)'));
    await shows('✗ not sent: no relay accepted the message');
  });

  it('shows replies as they arrive, merges history first, and keeps unread counts per agent', async () => {
    const assistant = agentSummary('assistant', 0, { state: 'active' });
    const echo = agentSummary('echo', 1, { behavior: 'echo' });
    daemon = await new FakeDaemon([assistant, echo]).start();
    const transport = new MemoryTransport();
    const t0 = Date.now() - 3_600_000;
    transport.histories.set(assistant.publicKey, [
      { id: 'h2', from: 'agent', text: 'stored answer', at: t0 + 1000 },
      { id: 'h1', from: 'owner', text: 'stored question', at: t0 },
    ]);
    transport.histories.set(echo.publicKey, [{ id: 'e1', from: 'owner', text: 'old ping', at: t0 }]);
    ui = render(<ChatApp control={daemon.control} transport={transport} pollMs={100} initialAgent="assistant" />);
    await shows('stored answer');
    expect(frame().indexOf('stored question')).toBeLessThan(frame().indexOf('stored answer'));
    expect(transport.historyCalls).toEqual(['assistant']);

    transport.deliver(assistant, 'a reply \u001b[2J\u001b[31mwith escapes\u0007');
    await shows('a reply with escapes');
    expect(frame()).not.toContain('\u001b[2J');

    transport.deliver(echo, 'echo: new');
    await until((f) => /echo\s+○ dormant \(1\)/.test(f));
    ui.stdin.write(KEYS.down);
    await shows('chat with echo');
    await shows('echo: new');
    expect(transport.historyCalls).toEqual(['assistant', 'echo']);
    expect(frame().lastIndexOf('old ping')).toBeLessThan(frame().lastIndexOf('echo: new'));
    expect(frame()).not.toMatch(/echo\s+○ dormant \(1\)/);
    // Going back does not fetch the history again.
    ui.stdin.write(KEYS.up);
    await shows('chat with assistant');
    expect(transport.historyCalls).toEqual(['assistant', 'echo']);
  });

  it('shows the agent thinking and the step it is on while it ticks, from the event stream', async () => {
    const { assistant } = await setup();
    await waitFor(() => daemon!.events.listenerCount > 0, frame);
    const at = Date.now();
    daemon!.emit({ type: 'tick.started', agent: assistant.publicKey, at, trigger: { type: 'dm', from: OWNER, at } });
    await shows('assistant is thinking… · dm tick');
    expect(frame()).toMatch(/assistant\s+● ticking/);
    daemon!.emit({ type: 'tick.step', agent: assistant.publicKey, at, step: { type: 'tool', at, ms: 12, name: 'recall' } });
    await shows('thinking… tool recall (12ms)');
    const record = tickRecord(assistant, 1, 'recall sky');
    daemon!.emit({ type: 'tick.finished', agent: assistant.publicKey, at: record.endedAt, record });
    await shows(`idle · last tick ${clockSeconds(record.endedAt)} ok in 42ms`);
    expect(frame()).toContain(`last tick ${clockSeconds(record.endedAt)}`);
    daemon!.emit({ type: 'budget.warning', agent: assistant.publicKey, at, resource: 'tokens', used: 800, limit: 1000 });
    await shows("! budget: tokens at 80% of today's limit");
  });

  it('toggles a trajectory view of the last ticks with Ctrl+T (daemon ticks and live ones)', async () => {
    let asked: string | undefined;
    const { assistant } = await setup({
      control: (c) => ({ ...c, ticks: async (ref: string) => ((asked = ref), [tickRecord(agentSummary('assistant', 0), 1, 'remember the sky is green')]) }),
    });
    ui!.stdin.write(KEYS.ctrlT);
    await shows('trajectory of assistant');
    await shows('"remember the sky is green"');
    expect(asked).toBe('assistant');
    const second = tickRecord(assistant, 2, 'recall sky');
    await waitFor(() => daemon!.events.listenerCount > 0, frame);
    daemon!.emit({ type: 'tick.finished', agent: assistant.publicKey, at: second.endedAt, record: second });
    await shows('"recall sky"');
    const f = frame();
    expect(f).toMatch(/#1 {2}\d\d:\d\d:\d\d {2}dm {2}ok {2}42ms {2}"remember the sky is green"/);
    expect(f).toMatch(/#2 {2}\d\d:\d\d:\d\d {2}dm {2}ok {2}42ms {2}"recall sky"/);
    expect(f.indexOf('#1 ')).toBeLessThan(f.indexOf('#2 '));
    expect(f).toMatch(/\+3ms\s+12ms\s+tool\s+recall/);
    expect(f).toContain('Ctrl+T chat');
    ui!.stdin.write(KEYS.ctrlT);
    await shows('chat with assistant');
    expect(frame()).not.toContain('trajectory of assistant');
    ui!.stdin.write(KEYS.ctrlT);
    await shows('trajectory of assistant');
    ui!.stdin.write(KEYS.escape);
    await shows('chat with assistant');
  });

  it('says plainly when the daemon is down and how to start it, and recovers when it is back', async () => {
    const { transport } = await setup();
    await daemon!.stop();
    await shows('The agent daemon is not running');
    expect(frame()).toContain('`agent up`');
    expect(frame()).toContain('daemon not reachable');
    // Typing still works while it is down.
    ui!.stdin.write('still here');
    await shows('still here');
    await daemon!.start(); // a new port and token in control.json
    await until((f) => f.includes('chat with assistant') && !f.includes('daemon not reachable'));
    expect(transport.listeners).toBe(1);
  });

  it('Tab moves focus to the agent list and typing there goes back to the input', async () => {
    await setup();
    expect(frame()).not.toContain('▸ agents');
    ui!.stdin.write(KEYS.tab);
    await shows('▸ agents');
    expect(frame()).toContain('(Tab to type)');
    ui!.stdin.write('x');
    await until((f) => !f.includes('▸ agents') && f.includes('to assistant › x'));
    ui!.stdin.write(KEYS.tab);
    await shows('▸ agents');
    ui!.stdin.write(KEYS.enter);
    await until((f) => !f.includes('▸ agents'));
  });

  it('handles keys typed faster than the screen redraws (↓, text and Enter in one go go to the new agent)', async () => {
    const { transport } = await setup();
    ui!.stdin.write(KEYS.down);
    ui!.stdin.write('fast');
    ui!.stdin.write(KEYS.enter);
    ui!.stdin.write(KEYS.tab);
    ui!.stdin.write('y');
    await waitFor(() => transport.sent.length === 1, frame);
    expect(transport.sent[0]).toMatchObject({ agent: 'echo', text: 'fast' });
    await until((f) => f.includes('to echo › y') && !f.includes('▸ agents'));
    // A pasted line with a newline sends it, like Enter.
    ui!.stdin.write('pasted line\r');
    await waitFor(() => transport.sent.length === 2, frame);
    expect(transport.sent[1]).toMatchObject({ agent: 'echo', text: 'ypasted line' });
  });

  it('quits on Ctrl+C and unsubscribes from the transport', async () => {
    const { transport } = await setup();
    expect(transport.listeners).toBe(1);
    ui!.stdin.write(KEYS.ctrlC);
    await waitFor(() => transport.listeners === 0, frame);
  });
});
