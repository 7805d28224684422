/**
 * Delegation end to end: `agent run` against relay-dev hosting agent "a" (llm, granted `delegate`)
 * and agent "b" (echo). The owner asks "a" with `agent send`; the model delegates to "b"; the DM,
 * b's echo and a's answer all travel as real NIP-17 gift wraps through the relay. The owner gets
 * b's answer from "a" exactly once, and a's trajectory holds both ticks (delegating, resuming),
 * published and verifiable.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startRelay, type RunningRelay } from '../../relay-dev/index.js';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { deriveFromSeed, mnemonicToSeed } from '../../src/protocol/nip06.js';
import { parseChatRumor } from '../../src/protocol/nip17.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, startCli, stopAll, tempHome } from '../helpers/daemon.js';
import { startFakeLlmServer, type FakeLlmServer, type FakeReply, type ReceivedRequest } from '../helpers/fake-llm-server.js';

type Msg = { role: string; content: string | null };

/** The model: asked anything, it delegates to "b"; given b's reply, it passes it on. */
function model(req: ReceivedRequest): FakeReply {
  const last = (req.body!.messages as Msg[]).at(-1)!;
  if (last.role === 'user') return { kind: 'reply', toolCalls: [{ name: 'delegate', arguments: { agent: 'b', text: `translate: ${last.content}`, timeout_seconds: 120 } }] };
  const result = JSON.parse(last.content!) as { reply?: string; error?: string };
  return { kind: 'reply', text: result.reply !== undefined ? `b answered: ${result.reply}` : `b did not answer (${result.error})` };
}

let relay: RunningRelay | undefined;
let pool: WsRelayPool | undefined;
let server: FakeLlmServer | undefined;
afterAll(async () => {
  await stopAll();
  await pool?.close();
  await relay?.close();
  await server?.close();
});

describe('delegation between two agents over relay-dev', () => {
  it('a delegates to b and returns its answer to the owner exactly once, with both ticks in its trajectory', { timeout: 120_000 }, async () => {
    await loadFastCrypto();
    relay = await startRelay({ port: 0 });
    server = await startFakeLlmServer({ handler: model });
    const home = tempHome({ relays: [relay.url] });
    const env = { AGENT_MNEMONIC: TEST_MNEMONIC, AGENT_LLM_BASE_URL: server.baseUrl, AGENT_LLM_MODEL: 'fake-model' };
    const a = await runCli(['create', 'a', '--behavior', 'llm', '--tools', 'delegate,recall', '--allow-dm', 'b', '--home', home, '--json'], { env });
    expect(a.code, a.stderr).toBe(0);
    const b = await runCli(['create', 'b', '--behavior', 'echo', '--home', home, '--json'], { env });
    expect(b.code, b.stderr).toBe(0);
    const aPubkey: string = JSON.parse(a.stdout).publicKey;
    const bPubkey: string = JSON.parse(b.stdout).publicKey;

    const daemon = startCli(['run', '--home', home], env);
    await daemon.waitFor(/daemon ready/);
    const asked = await runCli(['send', 'a', 'good morning', '--home', home, '--timeout', '60', '--json'], { env, timeoutMs: 70_000 });
    expect(asked.stderr).toBe('');
    expect(asked.code).toBe(0);
    const answer = JSON.parse(asked.stdout) as { reply: string; sent: string };
    expect(answer.reply).toBe('b answered: echo: translate: good morning');

    // Every DM the owner got from "a", read from the relay: exactly one, threaded to the question.
    const owner = new SecretKeySigner(deriveFromSeed(mnemonicToSeed(TEST_MNEMONIC), 0).secretKey);
    pool = new WsRelayPool({ relays: [relay.url], pingIntervalMs: 0 });
    pool.addAuthSigner(owner);
    const fromA = async (): Promise<Array<{ text: string; parentId?: string }>> => {
      const out: Array<{ text: string; parentId?: string }> = [];
      for (const wrap of await pool!.fetch([{ kinds: [1059], '#p': [owner.getPublicKey()] }])) {
        const opened = unwrapGift(wrap, owner);
        if (!opened.ok || opened.rumor.pubkey !== aPubkey) continue;
        const chat = parseChatRumor(opened.rumor);
        out.push({ text: chat.text, ...(chat.parentId ? { parentId: chat.parentId } : {}) });
      }
      return out;
    };
    // Give a duplicate every chance to show up before counting.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await fromA()).toEqual([{ text: 'b answered: echo: translate: good morning', parentId: answer.sent }]);
    expect(server.requests).toHaveLength(2);

    // a's trajectory: the tick that delegated (owner's DM) and the one that resumed (b's reply).
    const listed = await runCli(['trajectory', 'a', '--json', '--home', home], { env });
    expect(listed.code, listed.stderr).toBe(0);
    const ticks = listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const dmTicks = ticks.filter((t) => JSON.stringify(t).includes('"dm"'));
    expect(dmTicks).toHaveLength(2);
    expect(JSON.stringify(dmTicks[0])).toContain(owner.getPublicKey());
    expect(JSON.stringify(dmTicks[0])).toContain('suspended');
    expect(JSON.stringify(dmTicks[1])).toContain(bPubkey);
    expect(JSON.stringify(dmTicks[1])).toContain('onDelegateReply');
    const bTicks = await runCli(['trajectory', 'b', '--json', '--home', home], { env });
    expect(bTicks.stdout).toContain(aPubkey);

    // Both ticks are also published, chained and verifiable (create + 2 DM ticks).
    const verified = await runCli(['trajectory', 'a', '--verify', '--relay', relay.url, '--home', home], { env, timeoutMs: 30_000 });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/verified: 3 ticks/);
    expect(await daemon.stop('SIGTERM')).toBe(0);
  });
});
