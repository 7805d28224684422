import { afterEach, describe, expect, it } from 'vitest';
import { npubEncode } from '../../src/protocol/nip19.js';
import { BUILTIN_TOOL_NAMES, ToolRegistry } from '../../src/think/tools/registry.js';
import type { ToolCapabilities, ToolOutcome } from '../../src/think/tools/types.js';
import { AbortError } from '../../src/util/clock.js';
import { createTestContext, type TestContext } from './test-context.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const ALICE = '1'.repeat(64);
const BOB = 'b'.repeat(64);

let ctx: TestContext | undefined;
afterEach(() => {
  ctx?.close();
  ctx = undefined;
});

async function call(name: string, args: unknown, caps: Partial<ToolCapabilities> = {}, extra: Parameters<typeof createTestContext>[0] = {}): Promise<ToolOutcome> {
  ctx?.close();
  ctx = createTestContext({ now: () => NOW, capabilities: caps, ...extra });
  return new ToolRegistry().dispatcher(ctx).call({ id: 'c1', name, arguments: JSON.stringify(args) });
}

describe('the registry', () => {
  it('offers only granted tools, each with an object JSON Schema and no $schema noise', () => {
    const registry = new ToolRegistry();
    expect(registry.names()).toEqual([...BUILTIN_TOOL_NAMES]);
    const specs = registry.specsFor({ tools: ['schedule', 'http_fetch', 'not_a_tool'], httpAllow: [], dmAllow: [] });
    expect(specs.map((s) => s.name)).toEqual(['schedule', 'http_fetch']);
    for (const spec of registry.specsFor({ tools: [...BUILTIN_TOOL_NAMES], httpAllow: [], dmAllow: [] })) {
      expect(spec.parameters.type).toBe('object');
      expect(spec.parameters).not.toHaveProperty('$schema');
      expect(spec.description.length).toBeGreaterThan(10);
    }
    expect(specs[0]!.parameters).toMatchObject({ properties: { note: { type: 'string' }, in_seconds: { type: 'integer' }, at: { type: 'string' } }, required: ['note'] });
  });
});

describe('schedule', () => {
  it('sets an alarm in seconds or at an ISO time', async () => {
    const out = await call('schedule', { note: 'stand up', in_seconds: 90 });
    expect(JSON.parse(out.content)).toEqual({ ok: true, id: 'alarm-1', at: '2030-01-01T00:01:30.000Z' });
    expect(ctx!.alarms).toEqual([{ at: NOW + 90_000, note: 'stand up' }]);
    const at = await call('schedule', { note: 'new year', at: '2030-01-02T09:00:00+01:00' });
    expect(ctx!.alarms).toEqual([{ at: Date.parse('2030-01-02T08:00:00Z'), note: 'new year' }]);
    expect(at.ok).toBe(true);
  });

  it('refuses past times, both or neither of in_seconds/at, and more than a year ahead', async () => {
    expect((await call('schedule', { note: 'x', at: '2029-12-31T23:59:00Z' })).error).toBe('the time 2029-12-31T23:59:00.000Z is in the past (now is 2030-01-01T00:00:00.000Z)');
    expect((await call('schedule', { note: 'x', in_seconds: 5, at: '2030-06-01T00:00:00Z' })).error).toMatch(/give exactly one of in_seconds or at/);
    expect((await call('schedule', { note: 'x' })).error).toMatch(/give exactly one of in_seconds or at/);
    expect((await call('schedule', { note: 'x', at: '2032-01-01T00:00:00Z' })).error).toBe('alarms can be set at most one year ahead');
    expect((await call('schedule', { note: 'x', at: 'tomorrow' })).error).toMatch(/invalid arguments for schedule: .*at/);
    expect(ctx!.alarms).toEqual([]);
  });
});

describe('send_dm and publish_note', () => {
  it('sends to a hex key or an npub, normalized to hex', async () => {
    expect((await call('send_dm', { to: npubEncode(ALICE), text: 'hi' })).ok).toBe(true);
    expect(ctx!.dms).toEqual([{ pubkey: ALICE, text: 'hi' }]);
    const out = await call('send_dm', { to: ALICE.toUpperCase(), text: 'hey' });
    expect(JSON.parse(out.content)).toEqual({ ok: true, to: ALICE, id: 'dm-1' });
  });

  it('refuses a recipient outside dmAllow, and a malformed key', async () => {
    const caps = { dmAllow: [npubEncode(ALICE), 'garbage-entry'] };
    expect((await call('send_dm', { to: ALICE, text: 'ok' }, caps)).ok).toBe(true);
    const refused = await call('send_dm', { to: BOB, text: 'no' }, caps);
    expect(refused).toMatchObject({ ok: false, refused: true, error: `messaging ${BOB.slice(0, 12)}… is not allowed: the agent's dmAllow list does not include it` });
    expect(ctx!.dms).toEqual([]);
    const bad = await call('send_dm', { to: 'npub1nope', text: 'x' });
    expect(bad).toMatchObject({ ok: false, error: expect.stringContaining('not a public key') });
    expect(bad.refused).toBeUndefined();
  });

  it('publishes a note', async () => {
    const out = await call('publish_note', { text: 'gm nostr' });
    expect(JSON.parse(out.content)).toEqual({ ok: true, id: 'note-1' });
    expect(ctx!.notes).toEqual(['gm nostr']);
  });
});

describe('delegate', () => {
  it('asks another agent by npub and returns its reply, with the timeout in ms', async () => {
    const out = await call('delegate', { agent: npubEncode(BOB), text: 'summarize', timeout_seconds: 30 }, {}, {
      delegate: async (target, text) => `bob says: ${text} (${target.slice(0, 4)})`,
    });
    expect(JSON.parse(out.content)).toEqual({ reply: 'bob says: summarize (bbbb)' });
    expect(ctx!.delegations).toEqual([{ target: BOB, text: 'summarize', timeoutMs: 30_000 }]);
  });

  it('passes names through, and enforces dmAllow for keys and names', async () => {
    expect((await call('delegate', { agent: 'researcher', text: 'go' })).ok).toBe(true);
    expect(ctx!.delegations[0]).toEqual({ target: 'researcher', text: 'go', timeoutMs: 60_000 });
    const caps = { dmAllow: [ALICE, 'researcher'] };
    expect((await call('delegate', { agent: 'researcher', text: 'go' }, caps)).ok).toBe(true);
    expect(await call('delegate', { agent: 'writer', text: 'go' }, caps)).toMatchObject({ refused: true, error: expect.stringContaining('"writer" is not allowed') });
    expect(await call('delegate', { agent: BOB, text: 'go' }, caps)).toMatchObject({ refused: true });
    expect(ctx!.delegations).toEqual([]);
  });

  it('reports a timeout from the runtime to the model, but an abort of the tick stops everything', async () => {
    const timedOut = await call('delegate', { agent: 'slowpoke', text: 'x', timeout_seconds: 1 }, {}, {
      delegate: async () => {
        throw new Error('no reply from slowpoke within 1 s');
      },
    });
    expect(timedOut).toMatchObject({ ok: false, error: 'delegate failed: Error: no reply from slowpoke within 1 s' });

    const controller = new AbortController();
    ctx?.close();
    ctx = createTestContext({
      signal: controller.signal,
      delegate: (_t, _x, opts) => new Promise((_resolve, reject) => opts.signal?.addEventListener('abort', () => reject(new Error('cancelled')))),
    });
    const pending = new ToolRegistry().dispatcher(ctx).call({ id: 'c', name: 'delegate', arguments: '{"agent":"x","text":"y"}' });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortError);
  });
});
