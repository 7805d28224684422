/**
 * Pending approvals in `agent chat`: the selected agent's oldest waiting call is shown with its
 * code, tool, arguments and the keys; Ctrl+Y sends `/approve CODE` and Ctrl+N `/deny CODE` as the
 * owner's DM (once each: an answered approval is hidden at once, and the key does nothing more).
 */
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { PendingApproval } from '../../src/control/types.js';
import { ChatApp } from '../../src/tui/App.js';
import { agentSummary, FakeDaemon, KEYS, MemoryTransport, waitFor } from './helpers.js';

let daemon: FakeDaemon | undefined;
let ui: ReturnType<typeof render> | undefined;
afterEach(async () => {
  ui?.unmount();
  await daemon?.close();
});

const frame = (): string => ui?.lastFrame() ?? '';
const shows = (needle: string): Promise<void> => waitFor(() => frame().includes(needle), frame);
const pending = (code: string, tool: string, args: string): PendingApproval => ({
  code, tool, arguments: args, reason: 'supervised: every external action needs your approval', why: 'I will post it.', createdAt: Date.now(), deadline: Date.now() + 600_000,
});

describe('agent chat: approvals', () => {
  it('shows the pending approval and answers it with Ctrl+Y / Ctrl+N as the owner\'s DM, each once', async () => {
    const helper = agentSummary('helper', 0, { state: 'active', approvals: [pending('K7QX2M', 'publish_note', '{"text":"hello"}'), pending('ABCDEF', 'web.echo', '{"message":"hi"}')] });
    const quiet = agentSummary('quiet', 1);
    daemon = await new FakeDaemon([helper, quiet]).start();
    const transport = new MemoryTransport();
    transport.autoAccept = true;
    ui = render(<ChatApp control={daemon.control} transport={transport} pollMs={100} color={false} />);
    await shows('! approval K7QX2M: publish_note {"text":"hello"}');
    expect(frame()).toMatch(/Ctrl\+Y approve · Ctrl\+N deny · \d+ s left \(\+1 more\)/);
    expect(frame()).toContain('I will post it. · supervised: every external');
    expect(frame()).toMatch(/helper\s+● active !/);

    ui.stdin.write(KEYS.ctrlY);
    await waitFor(() => transport.sent.length === 1, frame);
    expect(transport.sent[0]).toMatchObject({ agent: 'helper', text: '/approve K7QX2M' });
    // The next one is offered at once, though the daemon still lists the first.
    await shows('! approval ABCDEF: web.echo {"message":"hi"}');
    ui.stdin.write(KEYS.ctrlN);
    await waitFor(() => transport.sent.length === 2, frame);
    expect(transport.sent[1]).toMatchObject({ agent: 'helper', text: '/deny ABCDEF' });
    await waitFor(() => !frame().includes('! approval'), frame);
    ui.stdin.write(KEYS.ctrlY);
    await new Promise((r) => setTimeout(r, 200));
    expect(transport.sent).toHaveLength(2);

    // Another agent has none: no bar, and the keys send nothing.
    ui.stdin.write(KEYS.down);
    await shows('chat with quiet');
    ui.stdin.write(KEYS.ctrlY);
    await new Promise((r) => setTimeout(r, 200));
    expect(transport.sent).toHaveLength(2);
    expect(frame()).not.toContain('! approval');
  });
});
