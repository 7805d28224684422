import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BudgetedProvider } from '../../src/think/budgeted.js';
import { BudgetExceededError, LlmError, ScriptError } from '../../src/think/errors.js';
import { OpenAiProvider } from '../../src/think/openai.js';
import { RecordingProvider, type RecordingLine } from '../../src/think/recording.js';
import { ScriptedProvider, parseScript } from '../../src/think/scripted.js';
import { runToolLoop } from '../../src/think/tool-loop.js';
import { ToolRegistry } from '../../src/think/tools/registry.js';
import type { LlmBudget, ThinkRequest } from '../../src/think/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { startFakeLlmServer, type FakeLlmServer } from '../helpers/fake-llm-server.js';
import { createTestContext } from './test-context.js';

const user = (content: string): ThinkRequest => ({ messages: [{ role: 'user', content }] });

let dir: string;
let server: FakeLlmServer | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'think-deco-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('RecordingProvider', () => {
  it('appends {at, provider, request, response|error} lines, in call order', async () => {
    server = await startFakeLlmServer({
      replies: [{ kind: 'reply', text: 'one', usage: { prompt_tokens: 3, completion_tokens: 1 } }, { kind: 'status', status: 400, body: { error: { message: 'nope' } } }],
    });
    const file = join(dir, 'deep', 'rec.jsonl');
    const clock = new ManualClock(1_800_000_000_000);
    const provider = new RecordingProvider(new OpenAiProvider({ baseUrl: server.baseUrl, model: 'm' }), { file, clock });
    expect(provider.name).toBe('recording(openai:m)');
    expect(await provider.think(user('first'))).toEqual({ text: 'one', usage: { inputTokens: 3, outputTokens: 1 } });
    await expect(provider.think(user('second'))).rejects.toBeInstanceOf(LlmError);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RecordingLine);
    expect(lines).toEqual([
      { at: 1_800_000_000_000, provider: 'openai:m', request: user('first'), response: { text: 'one', usage: { inputTokens: 3, outputTokens: 1 } } },
      { at: 1_800_000_000_000, provider: 'openai:m', request: user('second'), error: { name: 'LlmError', message: expect.stringContaining('HTTP 400 (nope)'), status: 400 } },
    ]);
  });

  it('scrubs the given secrets from every line', async () => {
    const inner = new ScriptedProvider([{ response: { text: 'the password is hunter2-secret', usage: { inputTokens: 1, outputTokens: 1 } } }]);
    const file = join(dir, 'rec.jsonl');
    await new RecordingProvider(inner, { file, secrets: ['hunter2-secret'] }).think(user('tell me hunter2-secret'));
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('hunter2-secret');
    expect(text.match(/\[redacted\]/g)).toHaveLength(2);
  });
});

describe('ScriptedProvider', () => {
  it('replays responses in order and says clearly when the script ran out', async () => {
    const file = join(dir, 'script.jsonl');
    writeFileSync(file, [
      '// a comment',
      JSON.stringify({ toolCalls: [{ name: 'remember', arguments: { text: 'x' } }] }),
      '',
      JSON.stringify({ text: 'done', usage: { inputTokens: 5, outputTokens: 2 } }),
    ].join('\n'));
    const provider = ScriptedProvider.fromFile(file);
    expect(await provider.think(user('a'))).toEqual({ toolCalls: [{ id: 'script_0_0', name: 'remember', arguments: '{"text":"x"}' }], usage: { inputTokens: 0, outputTokens: 0 } });
    expect(await provider.think(user('b'))).toEqual({ text: 'done', usage: { inputTokens: 5, outputTokens: 2 } });
    await expect(provider.think(user('c'))).rejects.toThrow(new ScriptError(`${file} ran out: all 2 responses were used`));
  });

  it('in match mode picks the sequence by the last user message, the same way every time', async () => {
    const provider = new ScriptedProvider(parseScript([
      JSON.stringify({ match: 'remember', response: { toolCalls: [{ id: 'r1', name: 'remember', arguments: { text: 'tea' } }] } }),
      JSON.stringify({ match: 'remember', response: { text: 'Noted.' } }),
      JSON.stringify({ match: 'status', response: { text: 'All good.' } }),
      JSON.stringify({ text: 'I do not know that one.' }),
    ].join('\n')), 'match');
    const ctx = createTestContext();
    try {
      for (let round = 0; round < 2; round++) {
        const result = await runToolLoop({ provider, request: user('Please REMEMBER that I like tea'), tools: new ToolRegistry().dispatcher(ctx) });
        expect(result).toMatchObject({ text: 'Noted.', thinkCalls: 2, stopReason: 'final' });
      }
      expect(ctx.facts()).toEqual(['tea', 'tea']);
      expect((await provider.think(user('status?'))).text).toBe('All good.');
      expect((await provider.think(user('what is the weather'))).text).toBe('I do not know that one.');
      const tooFar: ThinkRequest = { messages: [{ role: 'user', content: 'status' }, { role: 'assistant', content: 'All good.' }] };
      await expect(provider.think(tooFar)).rejects.toThrow(/has no response #2 for the message "status" \(1 matching\)/);
    } finally {
      ctx.close();
    }
  });

  it('replays a recording made by RecordingProvider (error lines are skipped)', async () => {
    const file = join(dir, 'rec.jsonl');
    const source = new ScriptedProvider([{ response: { text: 'recorded answer', usage: { inputTokens: 7, outputTokens: 3 } } }]);
    const recorder = new RecordingProvider(source, { file });
    await recorder.think(user('q1'));
    await expect(recorder.think(user('q2'))).rejects.toBeInstanceOf(ScriptError);
    const replay = ScriptedProvider.fromFile(file);
    expect(await replay.think(user('anything'))).toEqual({ text: 'recorded answer', usage: { inputTokens: 7, outputTokens: 3 } });
    await expect(replay.think(user('more'))).rejects.toBeInstanceOf(ScriptError);
  });

  it('names the file and line of a bad script line, and a missing file', () => {
    expect(() => parseScript('{"text":"ok"}\n{"text": ', 'demo.jsonl')).toThrow('demo.jsonl:2: not valid JSON');
    expect(() => parseScript('{"usage":{"inputTokens":1,"outputTokens":1}}', 'demo.jsonl')).toThrow(/demo\.jsonl:1: .*needs "text" or "toolCalls"/);
    expect(() => ScriptedProvider.fromFile(join(dir, 'missing.jsonl'))).toThrow(/cannot read script .*missing\.jsonl/);
  });
});

describe('BudgetedProvider', () => {
  it('calls through and records calls and tokens while the budget allows, then refuses without calling', async () => {
    const inner = new ScriptedProvider([
      { response: { text: 'a', usage: { inputTokens: 40, outputTokens: 10 } } },
      { response: { text: 'b', usage: { inputTokens: 60, outputTokens: 20 } } },
      { response: { text: 'c', usage: { inputTokens: 1, outputTokens: 1 } } },
    ]);
    const used = { calls: 0, tokens: 0 };
    const budget: LlmBudget = {
      check: async () => (used.tokens < 100 ? { ok: true } : { ok: false, reason: `daily tokens used up (${used.tokens}/100)` }),
      record: async (u) => void ((used.calls += u.calls), (used.tokens += u.tokens)),
    };
    const provider = new BudgetedProvider(inner, budget);
    expect((await provider.think(user('1'))).text).toBe('a');
    expect((await provider.think(user('2'))).text).toBe('b');
    expect(used).toEqual({ calls: 2, tokens: 130 });
    const error = await provider.think(user('3')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect((error as Error).message).toBe('budget exceeded: LLM daily tokens used up (130/100)');
    expect(used.calls).toBe(2);
  });

  it('does not record a failed call', async () => {
    const used = { calls: 0, tokens: 0 };
    const provider = new BudgetedProvider(new ScriptedProvider([]), { check: () => ({ ok: true }), record: (u) => void (used.calls += u.calls) });
    await expect(provider.think(user('x'))).rejects.toBeInstanceOf(ScriptError);
    expect(used.calls).toBe(0);
  });
});
