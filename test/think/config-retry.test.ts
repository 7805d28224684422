import { describe, expect, it } from 'vitest';
import { LlmConfigError, describeEndpoint, redact } from '../../src/think/errors.js';
import { KNOWN_BASE_URLS, llmConfigFromEnv } from '../../src/think/llm-config.js';
import { backoffDelay, isRetryableStatus, parseRetryAfter } from '../../src/think/retry.js';

describe('llmConfigFromEnv', () => {
  it('reads base URL, model and key; no base URL means no LLM', () => {
    expect(llmConfigFromEnv({})).toBeUndefined();
    expect(llmConfigFromEnv({ AGENT_LLM_BASE_URL: ' http://127.0.0.1:11434/v1/ ', AGENT_LLM_MODEL: 'llama3.2' })).toEqual({ baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama3.2' });
    expect(llmConfigFromEnv({ AGENT_LLM_BASE_URL: KNOWN_BASE_URLS.openai, AGENT_LLM_MODEL: 'gpt-4o-mini', AGENT_LLM_API_KEY: 'sk-x' })).toEqual({
      baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o-mini', apiKey: 'sk-x',
    });
  });

  it('names the variable that is wrong and what it got', () => {
    expect(() => llmConfigFromEnv({ AGENT_LLM_BASE_URL: 'http://127.0.0.1:8080/v1' })).toThrow(new LlmConfigError('AGENT_LLM_MODEL is required'));
    expect(() => llmConfigFromEnv({ AGENT_LLM_BASE_URL: 'localhost:8080', AGENT_LLM_MODEL: 'm' })).toThrow(/^AGENT_LLM_BASE_URL must be an http:\/\/ or https:\/\/ URL .*\(got "localhost:8080"\)$/);
    expect(() => llmConfigFromEnv({ AGENT_LLM_MODEL: 'm' })).toThrow('AGENT_LLM_MODEL is set but AGENT_LLM_BASE_URL is not');
  });
});

describe('retry timing', () => {
  const headers = (h: Record<string, string>): Headers => new Headers(h);
  it('reads Retry-After as seconds, as an HTTP date, and retry-after-ms', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(parseRetryAfter(headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(parseRetryAfter(headers({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(parseRetryAfter(headers({ 'retry-after': 'Tue, 01 Jan 2030 00:00:10 GMT' }), now)).toBe(10_000);
    expect(parseRetryAfter(headers({ 'retry-after': 'Mon, 31 Dec 2029 00:00:00 GMT' }), now)).toBe(0);
    expect(parseRetryAfter(headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now)).toBe(250);
    expect(parseRetryAfter(headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseRetryAfter(headers({}), now)).toBeUndefined();
  });

  it('backs off exponentially with bounded jitter and a cap', () => {
    const mid = { baseMs: 500, maxMs: 30_000, random: () => 0.5 };
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, mid))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(20, mid)).toBe(30_000);
    expect(backoffDelay(1, { ...mid, random: () => 0 })).toBe(375);
    expect(backoffDelay(1, { ...mid, random: () => 0.999999 })).toBe(625);
  });

  it('retries 408, 409, 429 and 5xx only', () => {
    expect([400, 401, 404, 408, 409, 422, 429, 500, 502, 503].filter(isRetryableStatus)).toEqual([408, 409, 429, 500, 502, 503]);
  });
});

describe('error helpers', () => {
  it('describes endpoints without credentials or query, and redacts secrets', () => {
    expect(describeEndpoint('https://user:pw@api.example.org/v1/chat/completions?key=abc#x')).toBe('https://api.example.org/v1/chat/completions');
    expect(redact('key sk-123456 and sk-123456 again', ['sk-123456', undefined, ''])).toBe('key [redacted] and [redacted] again');
  });
});
