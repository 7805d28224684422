/**
 * Owner approvals end to end: `agent run` against relay-dev, a supervised LLM agent (the scripted
 * chat-completions server as its model) with publish_note and an MCP tool (server-everything over
 * stdio). Every message is a real NIP-17 DM through the relay. The owner approves (the note is
 * published exactly once, a second approve changes nothing), denies, lets one time out (then a late
 * approve changes nothing), approves an MCP call whose real result reaches the answer, and a
 * stranger's `/approve` is refused and recorded.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { deriveFromSeed, mnemonicToSeed } from '../../src/protocol/nip06.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { createOwnerChat } from '../../src/cli/owner-chat.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, startTestRelay, stopAll, tempHome, testPool } from '../helpers/daemon.js';
import { startFakeLlmServer, type FakeLlmServer, type FakeReply, type ReceivedRequest } from '../helpers/fake-llm-server.js';
import { EVERYTHING_JS } from '../helpers/mcp-servers.js';

type Msg = { role: string; content: string | null };

/** "post X" → publish_note X; "add" → everything.get-sum; a tool result → "result: …". */
function model(req: ReceivedRequest): FakeReply {
  const last = (req.body!.messages as Msg[]).at(-1)!;
  if (last.role === 'tool') return { kind: 'reply', text: `result: ${last.content}` };
  const text = last.content ?? '';
  const post = /post (.+)/.exec(text);
  if (post) return { kind: 'reply', text: 'Posting as asked.', toolCalls: [{ name: 'publish_note', arguments: { text: post[1] } }] };
  if (text.includes('add')) return { kind: 'reply', toolCalls: [{ name: 'everything__get-sum', arguments: { a: 2, b: 40 } }] };
  return { kind: 'reply', text: 'ok' };
}

let llm: FakeLlmServer | undefined;
let closeChat: (() => Promise<void>) | undefined;
afterAll(async () => {
  await closeChat?.();
  await stopAll();
  await llm?.close();
});

describe('owner approvals over real DMs', () => {
  it('approve runs the call exactly once, deny and timeout do not, late and stranger answers change nothing', { timeout: 150_000 }, async () => {
    await loadFastCrypto();
    const relay = await startTestRelay();
    llm = await startFakeLlmServer({ handler: model });
    const home = tempHome({ relays: [relay.url] });
    const env = { AGENT_MNEMONIC: TEST_MNEMONIC, AGENT_LLM_BASE_URL: llm.baseUrl, AGENT_LLM_MODEL: 'fake-model' };
    const created = await runCli(['create', 'guard', '--behavior', 'llm', '--policy', 'open', '--home', home, '--json',
      '--tools', 'publish_note,everything.get-sum', '--mcp', `everything=${process.execPath} '${EVERYTHING_JS}' stdio`,
      '--autonomy', 'supervised', '--approval-timeout', '300'], { env, timeoutMs: 60_000 });
    expect(created.code, created.stderr).toBe(0);
    const guard: string = JSON.parse(created.stdout).publicKey;
    // The same, with approvals that deny themselves after 2 s.
    const hastyCreated = await runCli(['create', 'hasty', '--behavior', 'llm', '--home', home, '--json', '--tools', 'publish_note', '--autonomy', 'supervised', '--approval-timeout', '2'], { env, timeoutMs: 60_000 });
    expect(hastyCreated.code, hastyCreated.stderr).toBe(0);
    const hasty: string = JSON.parse(hastyCreated.stdout).publicKey;
    const daemon = startCli(['run', '--home', home], env);
    await daemon.waitFor(/daemon ready/);

    const ownerKey = new SecretKeySigner(deriveFromSeed(mnemonicToSeed(TEST_MNEMONIC), 0).secretKey);
    const pool = testPool(relay.url, [ownerKey]);
    // The owner's side as a Nostr client would do it (the same code `agent send` and `agent chat` use).
    const chat = await createOwnerChat({ owner: ownerKey, relays: [relay.url] });
    closeChat = () => chat.close();
    const got: Array<{ agent: string; text: string; replyTo?: string }> = [];
    chat.onMessage((agent, m) => void got.push({ agent, text: m.text, ...(m.replyTo ? { replyTo: m.replyTo } : {}) }));
    const agents: Record<string, string> = { guard, hasty };
    const notes = async (): Promise<string[]> => (await pool.fetch([{ kinds: [1], authors: [guard, hasty] }])).map((e) => e.content);
    /** Sends a DM from the owner and waits for the first answer threaded to it. */
    const send = async (text: string, agent = 'guard'): Promise<{ reply: string; sent: string }> => {
      // The same text sent twice within a second is the same rumor (same id): only answers that came after this send count.
      const after = got.length;
      const { id } = await chat.send({ publicKey: agents[agent]!, relays: [relay.url], name: agent }, text);
      const reply = await eventually(() => got.slice(after).find((m) => m.agent === agents[agent] && m.replyTo === id)?.text, 30_000, `the answer to "${text}"`);
      return { reply, sent: id };
    };
    const answerTo = (sent: string, what: string) => eventually(() => got.find((m) => m.replyTo === sent && m.text.startsWith('result: '))?.text, 30_000, what);
    const codeOf = (text: string): string => {
      expect(text).toMatch(/^(guard|hasty) wants to call /);
      return /\/approve ([0-9A-Z]{6})/.exec(text)![1]!;
    };

    // Approve: the note goes out once; the answer threads to the original request.
    const asked = await send('post hello from guard');
    expect(asked.reply).toMatch(/^guard wants to call publish_note with \{"text":"hello from guard"\}\nWhy: Posting as asked\.\nAsking because supervised: every external action needs your approval\./);
    const code = codeOf(asked.reply);
    expect(await notes()).toEqual([]);
    expect((await send(`/approve ${code}`)).reply).toBe(`Approved ${code}: publish_note runs now.`);
    expect(await answerTo(asked.sent, 'the approved answer')).toBe('result: {"ok":true}');
    expect(await eventually(async () => ((await notes()).length > 0 ? notes() : undefined), 10_000, 'the note')).toEqual(['hello from guard']);
    expect((await send(`/approve ${code}`)).reply).toMatch(new RegExp(`^Approval ${code} \\(publish_note\\) was already decided: approved at `));

    // Deny: the model is told; nothing is published.
    const denied = await send('post never this');
    expect((await send(`/deny ${codeOf(denied.reply)}`)).reply).toMatch(/^Denied [0-9A-Z]{6}: publish_note will not run\.$/);
    expect(await answerTo(denied.sent, 'the denied answer')).toBe('result: {"error":"my owner denied this call","denied":true}');

    // No answer within 2 s: it denies itself, and a late approve is only told so.
    const ignored = await send('post not in time', 'hasty');
    const late = codeOf(ignored.reply);
    expect(await answerTo(ignored.sent, 'the timeout answer')).toBe('result: {"error":"my owner did not answer the approval request in time, so this call was not run","denied":true}');
    expect((await send(`/approve ${late}`, 'hasty')).reply).toMatch(new RegExp(`^Approval ${late} \\(publish_note\\) was already decided: denied: no answer came in time`));

    // An MCP call under supervision: approved, its real result reaches the answer.
    const sum = await send('add two numbers');
    expect(sum.reply).toMatch(/^guard wants to call everything\.get-sum with \{"a":2,"b":40\}/);
    await send(`/approve ${codeOf(sum.reply)}`);
    expect(await answerTo(sum.sent, 'the MCP answer')).toBe('result: The sum of 2 and 40 is 42.');

    // A stranger's /approve for an open approval is refused, recorded, and runs nothing; the owner then denies it.
    const pendingNote = await send('post from a stranger approval');
    const pendingCode = codeOf(pendingNote.reply);
    const stranger = new SecretKeySigner(new Uint8Array(32).fill(0x42));
    for (const { event } of buildDirectMessage(stranger, guard, `/approve ${pendingCode}`)) await pool.publish(event);
    expect((await send(`/deny ${pendingCode}`)).reply).toBe(`Denied ${pendingCode}: publish_note will not run.`);
    const ticks = (await runCli(['trajectory', 'guard', '--json', '--home', home], { env, timeoutMs: 60_000 })).stdout.trim().split('\n').map((l) => JSON.parse(l) as { outcome: string; error?: string; trigger: { from?: string } });
    expect(ticks.filter((t) => t.trigger.from === stranger.getPublicKey())).toEqual([expect.objectContaining({ outcome: 'refused', error: 'approval commands are accepted only from the owner' })]);
    expect(await notes()).toEqual(['hello from guard']);

    // Every decision is a trajectory step.
    const decisions = async (agent: string): Promise<string[]> => ((await runCli(['trajectory', agent, '--json', '--home', home], { env, timeoutMs: 60_000 })).stdout.match(/"decision":"[a-z]+"/g) ?? []).sort();
    expect(await decisions('guard')).toEqual(['"decision":"approved"', '"decision":"approved"', '"decision":"denied"', '"decision":"denied"']);
    expect(await decisions('hasty')).toEqual(['"decision":"timeout"']);
    expect(await daemon.stop('SIGTERM')).toBe(0);
  });
});
