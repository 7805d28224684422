/**
 * Budgets through the CLI and the real daemon: a tick past its time budget is aborted and rolled
 * back while the agent keeps serving; a daily budget refuses ticks once used up (the owner is told
 * once) until it is raised; a storage budget refuses writes with a clear answer. On each storage
 * engine: the home's SQLite file, and PostgreSQL.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { deriveFromSeed, mnemonicToSeed } from '../../src/protocol/nip06.js';
import { parseChatRumor } from '../../src/protocol/nip17.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import type { WsRelayPool } from '../../src/relay/relay-pool.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { openStorage } from '../../src/storage/open.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, startTestRelay, stopAll, tempHome, testPool } from '../helpers/daemon.js';
import { dropTestDatabases, engineEnv } from '../helpers/postgres.js';

const SLOW = fileURLToPath(new URL('../fixtures/behaviors/slow-echo.mjs', import.meta.url));
afterAll(async () => {
  await stopAll();
  await dropTestDatabases();
});

/** Texts of the DMs `from` sent to `to`, oldest first. */
async function dmsTo(pool: WsRelayPool, to: SecretKeySigner, from: string): Promise<string[]> {
  const out: Array<{ text: string; at: number }> = [];
  for (const wrap of await pool.fetch([{ kinds: [1059], '#p': [to.getPublicKey()] }])) {
    const opened = unwrapGift(wrap, to);
    if (opened.ok && opened.rumor.pubkey === from) out.push({ text: parseChatRumor(opened.rumor).text, at: opened.rumor.created_at });
  }
  return out.sort((a, b) => a.at - b.at).map((m) => m.text);
}

describe.each(['sqlite', 'postgres'] as const)('budgets (%s)', (engine) => {
  it('time, daily compute and storage budgets', { timeout: 120_000 }, async () => {
    await loadFastCrypto();
    const relay = await startTestRelay();
    const home = tempHome({ relays: [relay.url] });
    const env: Record<string, string> = { AGENT_MNEMONIC: TEST_MNEMONIC, ...(await engineEnv(engine)) };
    const pubkeyOf = async (args: string[]): Promise<string> => {
      const r = await runCli([...args, '--home', home, '--json'], { env });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).publicKey;
    };
    const slow = await pubkeyOf(['create', 'slow', '--behavior', SLOW]);
    const echo = await pubkeyOf(['create', 'echo', '--behavior', 'echo']);
    const helper = await pubkeyOf(['create', 'helper', '--behavior', 'assistant']);
    expect((await runCli(['budget', 'slow', '--tick-seconds', '0.5', '--home', home], { env })).code).toBe(0);
    expect((await runCli(['budget', 'echo', '--daily-compute', '0.001', '--home', home], { env })).code).toBe(0);
    const shown = await runCli(['budget', 'helper', '--storage-bytes', '60', '--home', home, '--json'], { env });
    expect(JSON.parse(shown.stdout).limits.storageBytes).toBe(60);
    const bad = await runCli(['budget', 'helper', '--storage-bytes', '-5', '--home', home], { env });
    expect(bad.code).toBe(2);

    const daemon = startCli(['run', '--home', home], env);
    await daemon.waitFor(/daemon ready/);
    const user = new SecretKeySigner(hexToBytes('4a'.repeat(32)));
    const owner = new SecretKeySigner(deriveFromSeed(mnemonicToSeed(TEST_MNEMONIC), 0).secretKey);
    const pool = testPool(relay.url, [user, owner]);
    const send = async (from: SecretKeySigner, to: string, text: string): Promise<void> => {
      expect((await pool.publish(buildDirectMessage(from, to, text)[0]!.event))[0]).toMatchObject({ ok: true });
    };

    // 1. Time budget: the 1.5 s tick is aborted at 0.5 s, its kv write rolled back, no reply.
    await send(user, slow, 'too slow');
    await eventually(() => /slow #\d+ dm → (error|aborted)/.test(daemon.stderr()), 30_000, 'the aborted tick');
    const storage = await openStorage(env.AGENT_DATABASE_URL ?? `sqlite:${join(home, 'agents.db')}`);
    try {
      const slowIndex = (await storage.agents.get('slow'))!.index;
      expect(await storage.kv(slowIndex).list('seen:')).toEqual([]);
      expect((await storage.ticks.last(slowIndex))?.outcome).toMatch(/error|aborted/);
    } finally {
      await storage.close();
    }
    expect(await dmsTo(pool, user, slow)).toEqual([]);
    // …and it keeps serving: with a longer budget the next DM is answered.
    expect((await runCli(['budget', 'slow', '--tick-seconds', '10', '--home', home], { env })).code).toBe(0);
    await send(user, slow, 'in time');
    await eventually(async () => (await dmsTo(pool, user, slow)).includes('slow: in time'), 30_000, 'the served DM');
    expect(await dmsTo(pool, user, slow)).toEqual(['slow: in time']);

    // 2. Daily compute budget (1 ms): the agent's first (create) tick uses it up, so DMs are refused
    //    until the window resets or the owner raises the budget; the owner is told once.
    await send(user, echo, 'first');
    await eventually(() => /echo #\d+ dm → refused/.test(daemon.stderr()), 30_000, 'the refusal');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await dmsTo(pool, user, echo)).toEqual([]);
    const notices = (await dmsTo(pool, owner, echo)).filter((t) => /budget|compute/i.test(t));
    expect(notices).toHaveLength(1);
    expect((await runCli(['budget', 'echo', '--daily-compute', '100', '--home', home], { env })).code).toBe(0);
    await send(user, echo, 'second');
    await eventually(async () => (await dmsTo(pool, user, echo)).includes('echo: second'), 30_000, 'the echo after raising the budget');
    expect(await dmsTo(pool, user, echo)).toEqual(['echo: second']);

    // 3. Storage budget (60 bytes): a long fact is refused with a clear answer, a short one fits.
    await send(owner, helper, 'remember ok');
    await eventually(async () => (await dmsTo(pool, owner, helper)).some((t) => /Remembered: ok/.test(t)), 30_000, 'the short fact');
    await send(owner, helper, `remember ${'a very long fact '.repeat(8)}`);
    await eventually(async () => (await dmsTo(pool, owner, helper)).some((t) => /can't remember that/i.test(t)), 30_000, 'the storage refusal');
    expect(await daemon.stop('SIGTERM')).toBe(0);
  });
});
