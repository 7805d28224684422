/**
 * MCP tools end to end: `agent run` against relay-dev, an LLM agent given server-everything over
 * stdio (`agent create --mcp`) and the same package over Streamable HTTP (`agent mcp … add`), the
 * scripted chat-completions server as its model. A DM from the owner leads to an MCP call whose
 * real result reaches the answer (DMs sent and read the way `agent send` does); the server's environment holds none of the daemon's secrets; the
 * server process is gone after the agent hibernates and after the daemon stops.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createOwnerChat } from '../../src/cli/owner-chat.js';
import { deriveFromSeed, mnemonicToSeed } from '../../src/protocol/nip06.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { processTree, isAlive } from '../../src/think/mcp/reap.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, startTestRelay, stopAll, tempHome } from '../helpers/daemon.js';
import { startFakeLlmServer, type FakeLlmServer, type FakeReply, type ReceivedRequest } from '../helpers/fake-llm-server.js';
import { EVERYTHING_JS, startEverythingHttp, type EverythingHttp } from '../helpers/mcp-servers.js';

type Msg = { role: string; content: string | null };
const API_KEY = 'sk-e2e-mcp-SECRET-0123456789abcdef';

/** The model: "add" → everything.get-sum, "env" → everything.get-env, "web" → web.echo; a tool result → an answer quoting it. */
function model(req: ReceivedRequest): FakeReply {
  const last = (req.body!.messages as Msg[]).at(-1)!;
  if (last.role === 'tool') return { kind: 'reply', text: `tool said: ${last.content}` };
  const text = last.content ?? '';
  if (text.includes('add')) return { kind: 'reply', toolCalls: [{ name: 'everything__get-sum', arguments: { a: 2, b: 40 } }] };
  if (text.includes('env')) return { kind: 'reply', toolCalls: [{ name: 'everything__get-env', arguments: {} }] };
  if (text.includes('web')) return { kind: 'reply', toolCalls: [{ name: 'web__echo', arguments: { message: 'over http' } }] };
  return { kind: 'reply', text: 'no tool for that' };
}

/** Pids of server-everything processes below the daemon. */
function serverPids(daemonPid: number): number[] {
  return processTree(daemonPid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('server-everything');
    } catch {
      return false;
    }
  });
}

let llm: FakeLlmServer | undefined;
let http: EverythingHttp | undefined;
let closeChat: (() => Promise<void>) | undefined;
afterAll(async () => {
  await closeChat?.();
  await stopAll();
  await llm?.close();
  await http?.close();
});

describe('MCP tools through a real daemon', () => {
  it('answers a DM through a stdio and an HTTP MCP server, leaks no secret into the server, and reaps it on sleep and shutdown', { timeout: 120_000 }, async () => {
    const relay = await startTestRelay();
    llm = await startFakeLlmServer({ handler: model });
    http = await startEverythingHttp();
    const home = tempHome({ relays: [relay.url], runtime: { idleMs: 1500 } });
    const env = { AGENT_MNEMONIC: TEST_MNEMONIC, AGENT_LLM_BASE_URL: llm.baseUrl, AGENT_LLM_MODEL: 'fake-model', AGENT_LLM_API_KEY: API_KEY, OPENAI_API_KEY: 'sk-openai-never-passed-0123' };
    const created = await runCli(['create', 'helper', '--behavior', 'llm', '--home', home, '--json',
      '--mcp', `everything=${process.execPath} '${EVERYTHING_JS}' stdio`, '--tools', 'recall,everything.get-sum,everything.get-env'], { env, timeoutMs: 60_000 });
    expect(created.code, created.stderr).toBe(0);
    const added = await runCli(['mcp', 'helper', 'add', `web=${http.url}`, '--allow', 'echo', '--home', home], { env, timeoutMs: 60_000 });
    expect(added.code, added.stderr).toBe(0);
    const listed = await runCli(['mcp', 'helper', 'list', '--json', '--home', home], { env, timeoutMs: 60_000 });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string; allow: string[] })).toEqual([
      expect.objectContaining({ name: 'everything', transport: 'stdio', allow: ['get-sum', 'get-env'] }),
      expect.objectContaining({ name: 'web', transport: 'http', url: http.url, allow: ['echo'] }),
    ]);

    const daemon = startCli(['run', '--home', home], env);
    await daemon.waitFor(/daemon ready/);
    const helper: string = JSON.parse(created.stdout).publicKey;
    // The owner's side as a Nostr client would do it (the code `agent send` and `agent chat` use).
    const chat = await createOwnerChat({ owner: new SecretKeySigner(deriveFromSeed(mnemonicToSeed(TEST_MNEMONIC), 0).secretKey), relays: [relay.url] });
    closeChat = () => chat.close();
    const ask = async (text: string): Promise<string> => {
      const { id } = await chat.send({ publicKey: helper, relays: [relay.url], name: 'helper' }, text);
      const reply = await chat.waitForReply(helper, id, 40_000);
      expect(reply, `the answer to "${text}"`).toBeDefined();
      return reply!.text;
    };

    expect(await ask('please add 2 and 40')).toBe('tool said: The sum of 2 and 40 is 42.');
    // The model was offered exactly the granted tools, under wire names.
    const offered = (llm.requests[0]!.body!.tools as Array<{ function: { name: string } }>).map((t) => t.function.name);
    expect(offered).toEqual(['recall', 'everything__get-env', 'everything__get-sum', 'web__echo']);
    const [pid] = await eventually(() => (serverPids(daemon.child.pid!).length > 0 ? serverPids(daemon.child.pid!) : undefined), 10_000, 'the stdio server');

    const envAnswer = await ask('show your env');
    const serverEnv = JSON.parse(envAnswer.replace(/^tool said: /, '')) as Record<string, string>;
    expect(serverEnv.PATH).toBeTruthy();
    expect(Object.keys(serverEnv).filter((k) => k.startsWith('AGENT_') || k.includes('API_KEY'))).toEqual([]);
    expect(envAnswer).not.toContain(API_KEY);
    expect(envAnswer).not.toContain(TEST_MNEMONIC.split(' ').slice(0, 3).join(' '));

    expect(await ask('say it over the web')).toBe('tool said: Echo: over http');

    // Idle past runtime.idleMs: the agent hibernates and its server process is reaped.
    await eventually(() => !isAlive(pid!), 15_000, 'the server to be reaped when the agent sleeps');
    await eventually(() => http!.sessions() === 0, 10_000, 'the HTTP session to be ended');
    // The next DM wakes it: a new server process answers.
    expect(await ask('add again')).toBe('tool said: The sum of 2 and 40 is 42.');
    const [second] = serverPids(daemon.child.pid!);
    expect(second).toBeDefined();
    expect(second).not.toBe(pid);

    // Every call is a trajectory step with its arguments and result (the API key nowhere).
    const trajectory = await runCli(['trajectory', 'helper', '--json', '--home', home], { env, timeoutMs: 60_000 });
    expect(trajectory.code, trajectory.stderr).toBe(0);
    const steps = trajectory.stdout.trim().split('\n').flatMap((l) => (JSON.parse(l) as { steps: Array<{ name?: string; detail?: Record<string, unknown> }> }).steps);
    expect(steps.filter((s) => s.name === 'everything.get-sum')).toHaveLength(2);
    expect(steps.find((s) => s.name === 'everything.get-sum')!.detail).toMatchObject({ ok: true, arguments: '{"a":2,"b":40}', result: 'The sum of 2 and 40 is 42.' });
    expect(steps.find((s) => s.name === 'web.echo')!.detail).toMatchObject({ ok: true, server: 'web' });
    expect(trajectory.stdout).not.toContain(API_KEY);

    expect(await daemon.stop('SIGTERM')).toBe(0);
    expect(isAlive(second!)).toBe(false);
  });
});
