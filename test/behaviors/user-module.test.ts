/**
 * A user's own agent module (`--behavior ./weather-agent.mjs`), loaded the way the daemon loads it:
 * it imports the public API by the package name, brings its own tool, and that tool is offered to
 * the model only when the agent's config grants it.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadBehaviorModule } from '../../src/cli/behavior-modules.js';
import type { Runtime } from '../../src/runtime/engine.js';
import { OpenAiProvider } from '../../src/think/openai.js';
import { startFakeLlmServer, type FakeLlmServer } from '../helpers/fake-llm-server.js';
import { RuntimeFixture, inbound, stranger, waitFor } from '../runtime/helpers.js';

const MODULE = fileURLToPath(new URL('../fixtures/behaviors/weather-agent.mjs', import.meta.url));

describe('behaviors: a user module written with the public API', () => {
  let fx: RuntimeFixture;
  let server: FakeLlmServer;
  let runtime: Runtime;
  beforeEach(async () => {
    fx = new RuntimeFixture();
    server = await startFakeLlmServer();
    fx.behaviors.set(MODULE, await loadBehaviorModule(MODULE));
    runtime = await fx.runtime({ thinkFor: () => new OpenAiProvider({ baseUrl: server.baseUrl, model: 'fake-model', maxAttempts: 1 }) });
  });
  afterEach(async () => {
    await fx.close();
    await server.close();
  });

  it('its own tool runs when granted and is refused when not', async () => {
    const alice = stranger(0xa2);
    const granted = await fx.agent(runtime, 'weather', MODULE, { tools: ['forecast', 'recall'] });
    server.enqueue({ kind: 'reply', toolCalls: [{ name: 'forecast', arguments: { city: 'Lisbon' } }] }, { kind: 'reply', text: 'Sunny tomorrow in Lisbon.' });
    await runtime.deliver(inbound(granted, alice, 'weather in Lisbon tomorrow?'));
    await waitFor('answer', async () => (await fx.dmsTo(alice, granted)).length === 1);
    expect(await fx.dmsTo(alice, granted)).toEqual(['Sunny tomorrow in Lisbon.']);
    const offered = (server.requests[0]!.body!.tools as Array<{ function: { name: string } }>).map((t) => t.function.name);
    expect(offered).toEqual(['recall', 'forecast']);
    const result = (server.requests[1]!.body!.messages as Array<{ role: string; content: string }>).at(-1)!;
    expect(JSON.parse(result.content)).toEqual({ city: 'Lisbon', tomorrow: 'sunny, 21 °C' });

    const denied = await fx.agent(runtime, 'weather2', MODULE, { tools: ['recall'] });
    server.enqueue({ kind: 'reply', toolCalls: [{ name: 'forecast', arguments: { city: 'Oslo' } }] }, { kind: 'reply', text: 'I cannot check the forecast.' });
    await runtime.deliver(inbound(denied, alice, 'weather in Oslo?'));
    await waitFor('answer', async () => (await fx.dmsTo(alice, denied)).length === 1);
    const refusal = JSON.parse((server.requests[3]!.body!.messages as Array<{ role: string; content: string }>).at(-1)!.content);
    expect(refusal).toMatchObject({ refused: true, error: expect.stringMatching(/"forecast" is not available: it is not granted/) });
    expect((await fx.storage.ticks.last(denied.index))!.steps.some((s) => s.name === 'forecast' && s.detail?.refused === true)).toBe(true);
  });
});
