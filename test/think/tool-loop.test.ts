import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BudgetedProvider } from '../../src/think/budgeted.js';
import { BudgetExceededError, LlmError } from '../../src/think/errors.js';
import { OpenAiProvider } from '../../src/think/openai.js';
import { RecordingProvider } from '../../src/think/recording.js';
import { thinkWithTools } from '../../src/think/think-with-tools.js';
import { runToolLoop } from '../../src/think/tool-loop.js';
import { ToolRegistry } from '../../src/think/tools/registry.js';
import { ToolSuspendedError } from '../../src/think/tools/types.js';
import type { LlmBudget, ThinkRequest } from '../../src/think/types.js';
import { AbortError } from '../../src/util/clock.js';
import { startFakeLlmServer, type FakeLlmServer } from '../helpers/fake-llm-server.js';
import { createTestContext, type TestContext } from './test-context.js';

const KEY = 'sk-loop-TOPSECRET-fedcba9876543210';
const hello = (text: string): ThinkRequest => ({ system: 'You are a helpful agent.', messages: [{ role: 'user', content: text }] });

let server: FakeLlmServer | undefined;
let ctx: TestContext | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.close();
  ctx?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  server = undefined;
  ctx = undefined;
  dir = undefined;
});

function llm(): OpenAiProvider {
  return new OpenAiProvider({ baseUrl: server!.baseUrl, model: 'fake-model', apiKey: KEY, maxAttempts: 1 });
}

describe('the tool loop against an OpenAI-compatible server', () => {
  it('remembers through a tool call, feeds the result back, and ends with the final answer', async () => {
    server = await startFakeLlmServer({
      replies: [
        { kind: 'reply', toolCalls: [{ id: 'call_1', name: 'remember', arguments: { text: 'Alice likes green tea' } }], usage: { prompt_tokens: 30, completion_tokens: 8 } },
        { kind: 'reply', text: 'Noted: you like green tea.', usage: { prompt_tokens: 50, completion_tokens: 9 } },
      ],
    });
    ctx = createTestContext({ capabilities: { tools: ['remember', 'recall'] } });
    const result = await thinkWithTools({ provider: llm(), request: hello('remember that I like green tea'), ctx });

    expect(result).toMatchObject({ text: 'Noted: you like green tea.', stopReason: 'final', thinkCalls: 2, toolCalls: 1, usage: { inputTokens: 80, outputTokens: 17 } });
    expect(ctx.facts()).toEqual(['Alice likes green tea']);
    // The model was offered exactly the granted tools, with JSON Schema parameters.
    const offered = (server.requests[0]!.body!.tools as Array<{ function: { name: string; parameters: { properties: object } } }>);
    expect(offered.map((t) => t.function.name)).toEqual(['remember', 'recall']);
    expect(offered[0]!.function.parameters.properties).toHaveProperty('text');
    // The second request carries the assistant's tool call and the tool's answer.
    const second = server.requests[1]!.body!.messages as Array<Record<string, unknown>>;
    expect(second.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_1', function: { name: 'remember' } }] });
    expect(second.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_1' });
    expect(JSON.parse(second.at(-1)!.content as string)).toMatchObject({ ok: true });
    // Steps: think, tool, think, through ctx.recordStep.
    expect(ctx.steps.map((s) => [s.type, s.name])).toEqual([['think', 'openai:fake-model'], ['tool', 'remember'], ['think', 'openai:fake-model']]);
    expect(ctx.steps[0]!.tokens).toEqual({ input: 30, output: 8 });
    expect(ctx.steps[1]!.detail).toMatchObject({ ok: true, callId: 'call_1' });
    for (const s of ctx.steps) expect(s.ms).toBeGreaterThanOrEqual(0);
  });

  it('recalls with full-text search and forgets by id', async () => {
    server = await startFakeLlmServer({
      replies: [
        { kind: 'reply', toolCalls: [{ name: 'recall', arguments: { query: 'tea' } }] },
        { kind: 'reply', toolCalls: [{ name: 'forget', arguments: { id: '1' } }] },
        { kind: 'reply', text: 'Forgotten.' },
      ],
    });
    ctx = createTestContext();
    await ctx.memory.remember('Alice likes green tea', {});
    await ctx.memory.remember('Bob plays chess', {});
    const result = await runToolLoop({ provider: llm(), request: hello('forget what I drink'), tools: new ToolRegistry().dispatcher(ctx) });
    const toolMessages = result.messages.filter((m) => m.role === 'tool');
    expect(JSON.parse(toolMessages[0]!.content)).toEqual({ facts: [{ id: '1', text: 'Alice likes green tea' }] });
    expect(JSON.parse(toolMessages[1]!.content)).toEqual({ ok: true, forgotten: 1 });
    expect(ctx.facts()).toEqual(['Bob plays chess']);
  });

  it('sends invalid arguments back to the model as an error, and the loop goes on', async () => {
    server = await startFakeLlmServer({
      replies: [
        { kind: 'reply', toolCalls: [{ name: 'remember', arguments: { note: 'wrong field' } }, { name: 'schedule', arguments: '{not json' }] },
        { kind: 'reply', text: 'Sorry, let me try again later.' },
      ],
    });
    ctx = createTestContext();
    const steps: Array<Record<string, unknown>> = [];
    const result = await runToolLoop({ provider: llm(), request: hello('x'), tools: new ToolRegistry().dispatcher(ctx), onStep: (s) => steps.push({ ...s }) });
    expect(result.text).toBe('Sorry, let me try again later.');
    const [first, second] = result.messages.filter((m) => m.role === 'tool');
    expect(JSON.parse(first!.content).error).toMatch(/^invalid arguments for remember: .*text/);
    expect(JSON.parse(second!.content).error).toBe('invalid arguments for schedule: not valid JSON');
    expect(steps.filter((s) => s.type === 'tool').map((s) => s.detail)).toEqual([
      expect.objectContaining({ ok: false, error: expect.stringContaining('invalid arguments for remember') }),
      expect.objectContaining({ ok: false, error: 'invalid arguments for schedule: not valid JSON' }),
    ]);
    expect(ctx.facts()).toEqual([]);
  });

  it('refuses a tool the agent was not granted, tells the model, and records a refused step', async () => {
    const peer = 'a'.repeat(64);
    server = await startFakeLlmServer({
      replies: [
        { kind: 'reply', toolCalls: [{ name: 'send_dm', arguments: { to: peer, text: 'hi' } }, { name: 'rm_rf', arguments: {} }] },
        { kind: 'reply', text: 'I cannot do that.' },
      ],
    });
    ctx = createTestContext({ capabilities: { tools: ['remember'] } });
    const result = await thinkWithTools({ provider: llm(), request: hello('dm my friend'), ctx });
    expect((server.requests[0]!.body!.tools as unknown[]).length).toBe(1);
    expect(ctx.dms).toEqual([]);
    const tools = ctx.steps.filter((s) => s.type === 'tool');
    expect(tools.map((s) => [s.name, s.detail?.refused])).toEqual([['send_dm', true], ['rm_rf', true]]);
    expect(tools[0]!.detail?.error).toBe('tool "send_dm" is not available: it is not granted to this agent');
    expect(tools[1]!.detail?.error).toBe('tool "rm_rf" is not available: there is no such tool');
    expect(JSON.parse(result.messages.find((m) => m.role === 'tool')!.content)).toMatchObject({ refused: true });
  });

  it('refuses an http host outside the allowlist as a refused tool step, and lets an allowed one through', async () => {
    server = await startFakeLlmServer();
    server.enqueue(
      { kind: 'reply', toolCalls: [{ name: 'http_fetch', arguments: { url: 'http://localhost:1/secret' } }] },
      { kind: 'reply', toolCalls: [{ name: 'http_fetch', arguments: { url: `${new URL(server.baseUrl).origin}/status` } }] },
      { kind: 'reply', text: 'done' },
    );
    ctx = createTestContext({ capabilities: { tools: ['http_fetch'], httpAllow: ['127.0.0.1'] } });
    const result = await thinkWithTools({ provider: llm(), request: hello('fetch things'), ctx });
    const tools = ctx.steps.filter((s) => s.type === 'tool');
    expect(tools[0]!.detail).toMatchObject({ ok: false, refused: true, error: "fetching localhost:1 is not allowed: the host is not on the agent's http allowlist" });
    // The allowed host is the fake server itself: a GET there is answered with its 404, which the model sees as a result.
    expect(tools[1]!.detail).toMatchObject({ ok: true });
    const answers = result.messages.filter((m) => m.role === 'tool').map((m) => JSON.parse(m.content));
    expect(answers[1]).toMatchObject({ status: 404 });
  });

  it('stops at the step limit', async () => {
    server = await startFakeLlmServer({ handler: () => ({ kind: 'reply', text: 'thinking…', toolCalls: [{ name: 'recall', arguments: { query: 'loop' } }] }) });
    ctx = createTestContext();
    const result = await thinkWithTools({ provider: llm(), request: hello('loop forever'), ctx, maxSteps: 3 });
    expect(result).toMatchObject({ stopReason: 'step-limit', thinkCalls: 3, toolCalls: 3, text: 'thinking…' });
    expect(server.requests).toHaveLength(3);
  });

  it('an abort cancels the call in flight and stops the loop', async () => {
    server = await startFakeLlmServer({
      replies: [
        { kind: 'reply', toolCalls: [{ name: 'remember', arguments: { text: 'first' } }] },
        { kind: 'slow', delayMs: 20_000, then: { kind: 'reply', text: 'too late' } },
      ],
    });
    const controller = new AbortController();
    ctx = createTestContext({ signal: controller.signal });
    const pending = thinkWithTools({ provider: llm(), request: hello('remember first'), ctx });
    await server.waitForRequests(2);
    controller.abort(new Error('tick deadline'));
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    expect(ctx.steps.at(-1)).toMatchObject({ type: 'think', detail: { ok: false } });
    expect(server.requests).toHaveLength(2);
  });

  it('stops with BudgetExceededError when the LLM budget runs out, and counts what was used', async () => {
    server = await startFakeLlmServer({
      replies: [{ kind: 'reply', toolCalls: [{ name: 'recall', arguments: { query: 'x' } }], usage: { prompt_tokens: 90, completion_tokens: 10 } }],
    });
    const used = { calls: 0, tokens: 0 };
    const budget: LlmBudget = {
      check: () => (used.calls < 1 ? { ok: true } : { ok: false, reason: `daily LLM calls used up (${used.calls}/1)` }),
      record: (u) => void ((used.calls += u.calls), (used.tokens += u.tokens)),
    };
    ctx = createTestContext();
    const error = await thinkWithTools({ provider: new BudgetedProvider(llm(), budget), request: hello('x'), ctx }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect((error as BudgetExceededError).reason).toBe('daily LLM calls used up (1/1)');
    expect(used).toEqual({ calls: 1, tokens: 100 });
    expect(server.requests).toHaveLength(1);
    expect(ctx.steps.at(-1)).toMatchObject({ type: 'think', name: 'budgeted(openai:fake-model)', detail: { ok: false, error: expect.stringContaining('BudgetExceededError') } });
  });

  it('never lets the API key reach errors, recordings or step records', async () => {
    server = await startFakeLlmServer({
      replies: [
        { kind: 'reply', toolCalls: [{ name: 'remember', arguments: { text: 'a fact' } }] },
        { kind: 'reply', text: 'done' },
        { kind: 'status', status: 401, body: { error: { message: `invalid key ${KEY}` } } },
      ],
    });
    dir = mkdtempSync(join(tmpdir(), 'think-key-'));
    const file = join(dir, 'rec', 'calls.jsonl');
    const provider = new RecordingProvider(llm(), { file });
    ctx = createTestContext();
    await thinkWithTools({ provider, request: hello('remember a fact'), ctx });
    const error = (await thinkWithTools({ provider, request: hello('again'), ctx }).catch((e: unknown) => e)) as LlmError;
    expect(error).toBeInstanceOf(LlmError);
    expect(server.requests.every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
    const recording = readFileSync(file, 'utf8');
    expect(recording.trim().split('\n')).toHaveLength(3);
    for (const text of [recording, JSON.stringify(ctx.steps), error.message, String(error.stack), JSON.stringify(error)]) {
      expect(text).not.toContain(KEY);
      expect(text).not.toContain('TOPSECRET');
    }
    expect(recording).toContain('[redacted]');
  });
});

describe('a tool that suspends the loop (delegate inside a tick)', () => {
  it('stops with stopReason "suspended", answers the turn\'s other calls, and resumes with the result appended', async () => {
    server = await startFakeLlmServer({
      replies: [
        {
          kind: 'reply',
          toolCalls: [
            { id: 'call_a', name: 'recall', arguments: { query: 'tea' } },
            { id: 'call_b', name: 'delegate', arguments: { agent: 'translator', text: 'hola' } },
            { id: 'call_c', name: 'remember', arguments: { text: 'never stored' } },
          ],
        },
        { kind: 'reply', text: 'The translator says: hello.' },
      ],
    });
    ctx = createTestContext({
      delegate: async (target, text, opts) => {
        throw new ToolSuspendedError('waiting', { target, text, timeoutMs: opts.timeoutMs });
      },
    });
    const first = await thinkWithTools({ provider: llm(), request: hello('translate hola'), ctx });
    expect(first).toMatchObject({ stopReason: 'suspended', thinkCalls: 1, suspended: { callId: 'call_b', tool: 'delegate', detail: { target: 'translator', text: 'hola', timeoutMs: 60_000 } } });
    // recall ran; delegate waits (no tool message yet); remember was not run and says so.
    const tools = first.messages.filter((m) => m.role === 'tool') as Array<{ toolCallId: string; content: string }>;
    expect(tools.map((m) => m.toolCallId)).toEqual(['call_a', 'call_c']);
    expect(JSON.parse(tools[1]!.content).error).toMatch(/not run: the turn ended while delegate waits/);
    expect(ctx.facts()).toEqual([]);
    expect(ctx.steps.find((s) => s.name === 'delegate')?.detail).toMatchObject({ ok: true, suspended: true });
    expect(server.requests).toHaveLength(1);

    const resumed = await thinkWithTools({
      provider: llm(),
      request: { system: 'You are a helpful agent.', messages: [...first.messages, { role: 'tool', toolCallId: 'call_b', content: JSON.stringify({ reply: 'hello' }) }] },
      ctx,
    });
    expect(resumed).toMatchObject({ stopReason: 'final', text: 'The translator says: hello.' });
    const sent = server.requests[1]!.body!.messages as Array<Record<string, unknown>>;
    expect(sent.filter((m) => m.role === 'tool').map((m) => m.tool_call_id)).toEqual(['call_a', 'call_c', 'call_b']);
  });
});
