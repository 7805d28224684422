/**
 * Exactly-once across a crash: `kill -9` of `agent run` while ticks are in flight, then a restart.
 * Every DM gets exactly one reply: none lost (the saved triggers re-run, committed replies are
 * delivered by the outbox), none twice (the inbox, processed events and outbox dedupe). On each
 * storage engine: the home's SQLite file, and PostgreSQL.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import { parseChatRumor } from '../../src/protocol/nip17.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, startTestRelay, stopAll, tempHome, testPool } from '../helpers/daemon.js';
import { dropTestDatabases, engineEnv } from '../helpers/postgres.js';
import { relayMode } from '../helpers/relay-modes.js';

const SLOW = fileURLToPath(new URL('../fixtures/behaviors/slow-echo.mjs', import.meta.url));
afterAll(async () => {
  await stopAll();
  await dropTestDatabases();
});

// One relay habit per e2e file keeps the suite bounded; this one: nothing is served or accepted before AUTH.
describe.each([
  { ...relayMode('auth required'), engine: 'sqlite' as const },
  { ...relayMode('auth required'), engine: 'postgres' as const },
])('kill -9 during ticks ($name, $engine)', ({ options, engine }) => {
  it('every DM gets exactly one reply after a restart', async () => {
    await loadFastCrypto();
    const relay = await startTestRelay(options);
    const home = tempHome({ relays: [relay.url] });
    const env = { AGENT_MNEMONIC: TEST_MNEMONIC, ...(await engineEnv(engine)) };
    const created = await runCli(['create', 'slow', '--behavior', SLOW, '--home', home, '--json'], { env });
    expect(created.code, created.stderr).toBe(0);
    const agentPubkey: string = JSON.parse(created.stdout).publicKey;

    const user = new SecretKeySigner(hexToBytes('45'.repeat(32)));
    const pool = testPool(relay.url, [user]);
    const replies = async (): Promise<Map<string, string[]>> => {
      const byParent = new Map<string, string[]>();
      for (const wrap of await pool.fetch([{ kinds: [1059], '#p': [user.getPublicKey()] }])) {
        const opened = unwrapGift(wrap, user);
        if (!opened.ok || opened.rumor.pubkey !== agentPubkey) continue;
        const chat = parseChatRumor(opened.rumor);
        byParent.set(chat.parentId ?? '', [...(byParent.get(chat.parentId ?? '') ?? []), chat.text]);
      }
      return byParent;
    };

    let daemon = startCli(['run', '--home', home], env);
    await daemon.waitFor(/daemon ready/);
    const sent: Array<{ rumorId: string; text: string }> = [];
    for (let i = 0; i < 5; i++) {
      const text = `message ${i}`;
      const out = buildDirectMessage(user, agentPubkey, text);
      const own = unwrapGift(out.find((o) => o.target.type === 'own')!.event, user);
      if (!own.ok) throw new Error('could not open our own copy');
      sent.push({ rumorId: own.rumor.id, text });
      expect((await pool.publish(out[0]!.event))[0]).toMatchObject({ ok: true });
    }
    // The first reply is out: the next ticks are queued or running. Kill the daemon without mercy.
    await eventually(async () => (await replies()).size >= 1, 30_000, 'a first reply').catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\n${daemon.stdout()}\n${daemon.stderr()}`);
    });
    daemon.child.kill('SIGKILL');
    await daemon.stop();
    const before = await replies();
    expect(before.size).toBeLessThan(5);

    daemon = startCli(['run', '--home', home], env);
    await daemon.waitFor(/daemon ready/);
    await eventually(async () => (await replies()).size === 5, 60_000, 'replies to all five DMs');
    // Give a duplicate every chance to show up before counting.
    await new Promise((r) => setTimeout(r, 2500));
    const after = await replies();
    for (const { rumorId, text } of sent) expect(after.get(rumorId)).toEqual([`slow: ${text}`]);
    expect([...after.values()].flat()).toHaveLength(5);
    expect(await daemon.stop('SIGTERM')).toBe(0);
  });
});
