import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BudgetExceededError, LlmConfigError, createProvider, providerSettingsFromEnv } from '../../src/think/index.js';
import { startFakeLlmServer, type FakeLlmServer } from '../helpers/fake-llm-server.js';

let dir: string | undefined;
let server: FakeLlmServer | undefined;
afterEach(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  server = undefined;
  dir = undefined;
});

describe('providerSettingsFromEnv and createProvider', () => {
  it('no settings, no provider (the agent runs on rules)', () => {
    expect(providerSettingsFromEnv({})).toEqual({});
    expect(createProvider({})).toBeUndefined();
    expect(() => providerSettingsFromEnv({ AGENT_LLM_SCRIPT_MODE: 'random' })).toThrow(new LlmConfigError('AGENT_LLM_SCRIPT_MODE must be "order" or "match" (got "random")'));
  });

  it('an endpoint from the environment, recorded, under a budget', async () => {
    server = await startFakeLlmServer({ replies: [{ kind: 'reply', text: 'from the endpoint', usage: { prompt_tokens: 4, completion_tokens: 2 } }] });
    dir = mkdtempSync(join(tmpdir(), 'think-stack-'));
    const recordFile = join(dir, 'calls.jsonl');
    const settings = providerSettingsFromEnv({ AGENT_LLM_BASE_URL: server.baseUrl, AGENT_LLM_MODEL: 'fake', AGENT_LLM_API_KEY: 'sk-stack-secret-1', AGENT_LLM_RECORD: recordFile });
    let calls = 0;
    const provider = createProvider(settings, { budget: { check: () => (calls < 1 ? { ok: true } : { ok: false, reason: 'one call a day' }), record: (u) => void (calls += u.calls) } })!;
    expect(provider.name).toBe('budgeted(recording(openai:fake))');
    expect((await provider.think({ messages: [{ role: 'user', content: 'hi' }] })).text).toBe('from the endpoint');
    await expect(provider.think({ messages: [{ role: 'user', content: 'again' }] })).rejects.toBeInstanceOf(BudgetExceededError);
    expect(server.requests[0]!.headers.authorization).toBe('Bearer sk-stack-secret-1');
    const recording = readFileSync(recordFile, 'utf8');
    expect(recording.trim().split('\n')).toHaveLength(1);
    expect(recording).not.toContain('sk-stack-secret-1');
  });

  it('a script from the environment wins over an endpoint', async () => {
    dir = mkdtempSync(join(tmpdir(), 'think-stack-'));
    const script = join(dir, 'demo.jsonl');
    writeFileSync(script, `${JSON.stringify({ match: 'ping', response: { text: 'pong' } })}\n`);
    const provider = createProvider(providerSettingsFromEnv({ AGENT_LLM_SCRIPT: script, AGENT_LLM_SCRIPT_MODE: 'match', AGENT_LLM_BASE_URL: 'http://127.0.0.1:9/v1', AGENT_LLM_MODEL: 'unused' }))!;
    expect(provider.name).toBe(`scripted(${script})`);
    expect((await provider.think({ messages: [{ role: 'user', content: 'PING!' }] })).text).toBe('pong');
    expect((await provider.think({ messages: [{ role: 'user', content: 'ping again' }] })).text).toBe('pong');
  });
});
