/**
 * An LLM agent end to end through the CLI: `agent up`, `agent create --behavior llm --model …
 * --tools remember,recall,http_fetch --allow-host example.org --system …`, then NIP-17 DMs with
 * `agent send`. The model (a local chat-completions server) calls `remember`, and later answers
 * "when is the launch?" from what `recall` returned. The API key is used on the wire and appears
 * nowhere else: not in logs, CLI output, the recording, the database, or the published trajectory.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { Kind } from '../../src/protocol/kinds.js';
import { deriveFromSeed, mnemonicToSeed } from '../../src/protocol/nip06.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, stopAll, tempHome } from '../helpers/daemon.js';
import { startFakeLlmServer, type FakeLlmServer, type FakeReply, type ReceivedRequest } from '../helpers/fake-llm-server.js';

const API_KEY = 'sk-e2e-0123456789abcdefSECRET';
type Msg = { role: string; content: string | null; tool_calls?: Array<{ function: { name: string } }> };

/** The scripted model: remember on "remember …", recall on a question, answer from the tool result. */
function model(req: ReceivedRequest): FakeReply {
  const messages = req.body!.messages as Msg[];
  const last = messages.at(-1)!;
  if (last.role === 'user' && /fail/.test(last.content ?? '')) {
    // A server that echoes the key in its error: the agent must not repeat it anywhere.
    return { kind: 'status', status: 401, body: { error: { message: `invalid api key ${API_KEY}` } } };
  }
  if (last.role === 'user' && /^remember that /i.test(last.content ?? '')) {
    return { kind: 'reply', toolCalls: [{ name: 'remember', arguments: { text: last.content!.replace(/^remember that /i, '') } }] };
  }
  if (last.role === 'user') return { kind: 'reply', toolCalls: [{ name: 'recall', arguments: { query: 'launch' } }] };
  const called = messages.findLast((m) => m.role === 'assistant')!.tool_calls![0]!.function.name;
  if (called === 'remember') return { kind: 'reply', text: 'Noted.' };
  const facts = (JSON.parse(last.content!) as { facts: Array<{ text: string }> }).facts;
  return { kind: 'reply', text: facts.length ? `From my notes: ${facts.map((f) => f.text).join('; ')}` : 'I have no notes on that.' };
}

let server: FakeLlmServer | undefined;
let pool: WsRelayPool | undefined;
afterAll(async () => {
  await stopAll();
  await pool?.close();
  await server?.close();
});

describe('an LLM agent through the CLI', () => {
  it('remembers with a tool call and answers later from recall; the API key leaks nowhere', { timeout: 120_000 }, async () => {
    await loadFastCrypto();
    server = await startFakeLlmServer({ handler: model });
    const home = tempHome();
    const record = join(home, 'llm-calls.jsonl');
    const env = {
      AGENT_MNEMONIC: TEST_MNEMONIC,
      AGENT_LLM_BASE_URL: server.baseUrl,
      AGENT_LLM_MODEL: 'fake-model',
      AGENT_LLM_API_KEY: API_KEY,
      AGENT_LLM_RECORD: record,
    };
    const up = startCli(['up', '--home', home, '--port', '0'], env);
    const [, port] = await up.waitFor(/relay\s+ws:\/\/127\.0\.0\.1:(\d+)/);
    await up.waitFor(/agent up: ready/);

    const created = await runCli(
      ['create', 'launchbot', '--behavior', 'llm', '--model', 'launch-model', '--tools', 'remember,recall,http_fetch', '--allow-host', 'example.org', '--system', 'You are the launch bot.', '--home', home, '--json'],
      { env },
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const agentPubkey: string = JSON.parse(created.stdout).publicKey;
    const badTool = await runCli(['create', 'x', '--behavior', 'llm', '--tools', 'remember,teleport', '--home', home], { env });
    expect(badTool.code).not.toBe(0);
    expect(badTool.stderr).toMatch(/unknown tool "teleport"/);

    const outputs: string[] = [created.stdout, created.stderr];
    const send = async (text: string): Promise<string> => {
      const r = await runCli(['send', 'launchbot', text, '--home', home, '--timeout', '30'], { env, timeoutMs: 40_000 });
      outputs.push(r.stdout, r.stderr);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim();
    };
    expect(await send('remember that the launch is on Friday')).toBe('Noted.');
    expect(await send('when is the launch?')).toBe('From my notes: the launch is on Friday');
    const failed = await send('please fail');
    expect(failed).toMatch(/could not reach my language model: LLM request to http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions failed: HTTP 401/);

    // What went over the wire: the agent's model and system prompt, its granted tools, the key as a bearer token.
    const first = server.requests[0]!;
    expect(first.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(first.body!.model).toBe('launch-model');
    expect((first.body!.messages as Msg[])[0]!.content).toContain('You are the launch bot.');
    expect((first.body!.tools as Array<{ function: { name: string } }>).map((t) => t.function.name)).toEqual(['remember', 'recall', 'http_fetch']);
    expect(server.requests).toHaveLength(5);

    // The published trajectory (owner-encrypted): decrypt every tick event and look.
    const owner = new SecretKeySigner(deriveFromSeed(mnemonicToSeed(TEST_MNEMONIC), 0).secretKey);
    pool = new WsRelayPool({ relays: [`ws://127.0.0.1:${port}`], pingIntervalMs: 0 });
    const ticks = await eventually(async () => {
      const events = await pool!.fetch([{ kinds: [Kind.TrajectoryTick], authors: [agentPubkey] }]);
      return events.length >= 4 ? events : undefined;
    }, 30_000, 'four published tick events');
    const published = ticks.map((t) => owner.nip44.decrypt(agentPubkey, t.content)).join('\n');
    expect(published).toMatch(/remember/);
    expect(published).toMatch(/HTTP 401/);

    const local = await runCli(['trajectory', 'launchbot', '--json', '--home', home], { env });
    expect(local.code).toBe(0);
    expect(local.stdout).toMatch(/recall/);
    const recording = readFileSync(record, 'utf8');
    expect(recording.split('\n').filter(Boolean)).toHaveLength(5);
    expect(recording).toMatch(/\[redacted\]|HTTP 401/);
    expect(await up.stop('SIGINT')).toBe(0);

    const database = readdirSync(home).filter((f) => f.startsWith('agents.db')).map((f) => readFileSync(join(home, f)).toString('latin1')).join('\n');
    const haystacks = { logs: up.stdout() + up.stderr(), cli: outputs.join('\n'), trajectory: published + local.stdout, recording, database };
    for (const [where, text] of Object.entries(haystacks)) {
      expect(text.includes(API_KEY), `API key found in ${where}`).toBe(false);
      expect(text.includes(API_KEY.slice(7)), `part of the API key found in ${where}`).toBe(false);
    }
  });
});
