import { afterEach, describe, expect, it } from 'vitest';
import { LlmError } from '../../src/think/errors.js';
import { OpenAiProvider, type OpenAiProviderOptions } from '../../src/think/openai.js';
import type { ThinkRequest } from '../../src/think/types.js';
import { AbortError, type Clock } from '../../src/util/clock.js';
import { startFakeLlmServer, type FakeLlmServer } from '../helpers/fake-llm-server.js';

const KEY = 'sk-test-VERYSECRET-0123456789abcdef';
const ask: ThinkRequest = { system: 'be brief', messages: [{ role: 'user', content: 'hello' }] };

/** A clock whose sleeps return at once and are remembered (the waits asked for are what we check). */
function recordingClock(now = Date.parse('2030-01-01T00:00:00Z')): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return { sleeps, now: () => now, sleep: async (ms) => void sleeps.push(ms) };
}

let server: FakeLlmServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function provider(extra: Partial<OpenAiProviderOptions> = {}): OpenAiProvider {
  return new OpenAiProvider({ baseUrl: server!.baseUrl, model: 'fake-model', apiKey: KEY, backoff: { random: () => 0.5 }, ...extra });
}

describe('OpenAiProvider: the wire format', () => {
  it('sends system, messages, tools and the bearer key, and parses tool calls and usage', async () => {
    server = await startFakeLlmServer({
      replies: [{ kind: 'reply', toolCalls: [{ id: 'c1', name: 'remember', arguments: { text: 'tea' } }], usage: { prompt_tokens: 42, completion_tokens: 7 } }],
    });
    const result = await provider({ temperature: 0.2 }).think({
      ...ask,
      messages: [
        { role: 'user', content: 'remember tea' },
        { role: 'assistant', content: null, toolCalls: [{ id: 'c0', name: 'recall', arguments: '{"query":"tea"}' }] },
        { role: 'tool', toolCallId: 'c0', content: '{"facts":[]}' },
      ],
      tools: [{ name: 'remember', description: 'store a fact', parameters: { type: 'object', properties: { text: { type: 'string' } } } }],
    });
    expect(result).toEqual({ toolCalls: [{ id: 'c1', name: 'remember', arguments: '{"text":"tea"}' }], usage: { inputTokens: 42, outputTokens: 7 } });
    const req = server.requests[0]!;
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.body).toMatchObject({
      model: 'fake-model',
      temperature: 0.2,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'remember tea' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c0', type: 'function', function: { name: 'recall', arguments: '{"query":"tea"}' } }] },
        { role: 'tool', tool_call_id: 'c0', content: '{"facts":[]}' },
      ],
      tools: [{ type: 'function', function: { name: 'remember', description: 'store a fact', parameters: { type: 'object' } } }],
    });
  });

  it('sends no authorization header without a key, and estimates tokens when usage is missing', async () => {
    server = await startFakeLlmServer({ replies: [{ kind: 'reply', text: 'hi there', usage: null }] });
    const result = await new OpenAiProvider({ baseUrl: `${server.baseUrl}/`, model: 'm' }).think(ask);
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
    expect(result.text).toBe('hi there');
    expect(result.usage.estimated).toBe(true);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBe(2);
  });
});

describe('OpenAiProvider: retries', () => {
  it('retries a 429 after the Retry-After seconds, then succeeds', async () => {
    server = await startFakeLlmServer({
      replies: [{ kind: 'status', status: 429, headers: { 'retry-after': '1' }, body: { error: { message: 'slow down' } } }, { kind: 'reply', text: 'ok' }],
    });
    const clock = recordingClock();
    const result = await provider({ clock }).think(ask);
    expect(result.text).toBe('ok');
    expect(clock.sleeps).toEqual([1000]);
    expect(server.requests).toHaveLength(2);
  });

  it('honours Retry-After as an HTTP date, measured on the injected clock', async () => {
    const clock = recordingClock(Date.parse('2030-01-01T00:00:00Z'));
    server = await startFakeLlmServer({
      replies: [{ kind: 'status', status: 503, headers: { 'retry-after': 'Tue, 01 Jan 2030 00:00:03 GMT' } }, { kind: 'reply', text: 'ok' }],
    });
    expect((await provider({ clock }).think(ask)).text).toBe('ok');
    expect(clock.sleeps).toEqual([3000]);
  });

  it('backs off exponentially on 500s and gives up after maxAttempts with an LlmError', async () => {
    const fail = { kind: 'status', status: 500, body: { error: { message: 'boom' } } } as const;
    server = await startFakeLlmServer({ replies: [fail, fail, fail] });
    const clock = recordingClock();
    const error = await provider({ clock, maxAttempts: 3, backoff: { baseMs: 100, random: () => 0.5 } }).think(ask).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmError);
    const e = error as LlmError;
    expect(e.status).toBe(500);
    expect(e.attempts).toBe(3);
    expect(e.message).toContain(`${server.baseUrl}/chat/completions`);
    expect(e.message).toContain('HTTP 500 (boom)');
    expect(clock.sleeps).toEqual([100, 200]);
    expect(server.requests).toHaveLength(3);
  });

  it('does not retry a 400, and refuses to wait longer than maxRetryAfterMs', async () => {
    server = await startFakeLlmServer({
      replies: [
        { kind: 'status', status: 400, body: { error: { message: 'bad model' } } },
        { kind: 'status', status: 429, headers: { 'retry-after': '3600' } },
      ],
    });
    const clock = recordingClock();
    const bad = (await provider({ clock }).think(ask).catch((e: unknown) => e)) as LlmError;
    expect(bad).toMatchObject({ name: 'LlmError', status: 400, kind: 'http', attempts: 1 });
    const late = (await provider({ clock }).think(ask).catch((e: unknown) => e)) as LlmError;
    expect(late).toMatchObject({ name: 'LlmError', status: 429, kind: 'retry-after-too-long' });
    expect(late.message).toMatch(/retry after 3600 s/);
    expect(clock.sleeps).toEqual([]);
  });
});

describe('OpenAiProvider: failures', () => {
  it('turns malformed JSON into an LlmError naming the endpoint and status', async () => {
    server = await startFakeLlmServer({ replies: [{ kind: 'raw', status: 200, body: '{"choices": [' }] });
    const e = (await provider().think(ask).catch((x: unknown) => x)) as LlmError;
    expect(e).toBeInstanceOf(LlmError);
    expect(e).toMatchObject({ kind: 'malformed', status: 200, endpoint: `${server.baseUrl}/chat/completions` });
    expect(e.message).toContain(`${server.baseUrl}/chat/completions`);
    expect(e.message).toContain('HTTP 200');
    expect(server.requests).toHaveLength(1);
  });

  it('turns a JSON body of the wrong shape into an LlmError saying what is missing', async () => {
    server = await startFakeLlmServer({ replies: [{ kind: 'raw', body: JSON.stringify({ choices: [] }) }] });
    const e = (await provider().think(ask).catch((x: unknown) => x)) as LlmError;
    expect(e).toMatchObject({ name: 'LlmError', kind: 'malformed', status: 200 });
    expect(e.message).toContain('no choices in the response');
  });

  it('a slow response is cut by the caller’s deadline: AbortError, no retry', async () => {
    server = await startFakeLlmServer({ replies: [{ kind: 'slow', delayMs: 20_000, then: { kind: 'reply', text: 'late' } }] });
    const e = await provider({ clock: recordingClock() }).think(ask, { signal: AbortSignal.timeout(300) }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AbortError);
    expect((e as AbortError).cause).toMatchObject({ name: 'TimeoutError' });
    expect(server.requests).toHaveLength(1);
  });

  it('an already aborted signal sends nothing', async () => {
    server = await startFakeLlmServer({ replies: [{ kind: 'reply', text: 'never' }] });
    await expect(provider().think(ask, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    expect(server.requests).toHaveLength(0);
  });

  it('the per-request timeout gives a retryable LlmError of kind timeout', async () => {
    const slow = { kind: 'slow', delayMs: 20_000, then: { kind: 'reply', text: 'late' } } as const;
    server = await startFakeLlmServer({ replies: [slow, slow] });
    const clock = recordingClock();
    const e = (await provider({ clock, timeoutMs: 200, maxAttempts: 2 }).think(ask).catch((x: unknown) => x)) as LlmError;
    expect(e).toMatchObject({ name: 'LlmError', kind: 'timeout', attempts: 2 });
    expect(e.message).toContain('timed out after 200 ms');
    expect(server.requests).toHaveLength(2);
  });

  it('a refused connection is a network LlmError', async () => {
    server = await startFakeLlmServer();
    const baseUrl = server.baseUrl;
    await server.close();
    server = undefined;
    const e = (await new OpenAiProvider({ baseUrl, model: 'm', maxAttempts: 2, clock: recordingClock() }).think(ask).catch((x: unknown) => x)) as LlmError;
    expect(e).toMatchObject({ name: 'LlmError', kind: 'network', attempts: 2 });
    expect(e.message).toContain(`${baseUrl}/chat/completions`);
  });

  it('never puts the API key in an error, even when the server echoes it', async () => {
    server = await startFakeLlmServer({
      replies: [
        { kind: 'status', status: 401, body: { error: { message: `Incorrect API key provided: ${KEY}` } } },
        { kind: 'raw', body: `not json ${KEY}` },
      ],
    });
    for (let i = 0; i < 2; i++) {
      const e = (await provider().think(ask).catch((x: unknown) => x)) as LlmError;
      expect(e).toBeInstanceOf(LlmError);
      const everything = `${e.message} ${e.stack} ${JSON.stringify(e)} ${String(e.cause)}`;
      expect(everything).not.toContain(KEY);
      expect(everything).not.toContain('VERYSECRET');
    }
  });
});
