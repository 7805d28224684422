/**
 * The PostgreSQL server dies under a running daemon: the daemon says so ("database unavailable,
 * retrying"), keeps trying with backoff instead of failing ticks, and when the server is back every
 * DM — those answered before, and those that arrived while it was down — has exactly one reply.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { parseChatRumor } from '../../src/protocol/nip17.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, startTestRelay, stopAll, tempHome, testPool } from '../helpers/daemon.js';
import { createTestDatabase, startPostgres, type TestPostgres } from '../helpers/postgres.js';

let server: TestPostgres | undefined;
afterAll(async () => {
  await stopAll();
  await server?.destroy();
});

describe('a daemon on PostgreSQL when the server goes away', () => {
  it('reports it, retries with backoff, resumes when it is back: nothing lost or duplicated', { timeout: 120_000 }, async () => {
    await loadFastCrypto();
    server = await startPostgres(); // a private server: this test kills it
    const db = await createTestDatabase(server.url, 'outage');
    const relay = await startTestRelay();
    const home = tempHome({ relays: [relay.url] });
    const env = { AGENT_MNEMONIC: TEST_MNEMONIC, AGENT_DATABASE_URL: db.url };
    const created = await runCli(['create', 'echo', '--behavior', 'echo', '--home', home, '--json'], { env });
    expect(created.code, created.stderr).toBe(0);
    const agentPubkey: string = JSON.parse(created.stdout).publicKey;

    const user = new SecretKeySigner(hexToBytes('46'.repeat(32)));
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
    const sent: Array<{ rumorId: string; text: string }> = [];
    const dm = async (text: string): Promise<void> => {
      const out = buildDirectMessage(user, agentPubkey, text);
      const own = unwrapGift(out.find((o) => o.target.type === 'own')!.event, user);
      if (!own.ok) throw new Error('could not open our own copy');
      sent.push({ rumorId: own.rumor.id, text });
      expect((await pool.publish(out[0]!.event))[0]).toMatchObject({ ok: true });
    };

    const daemon = startCli(['run', '--home', home], env);
    await daemon.waitFor(/daemon ready/);
    await dm('before the outage');
    await eventually(async () => (await replies()).size === 1, 30_000, 'the first reply');

    await server.kill();
    await dm('during the outage 1');
    await dm('during the outage 2');
    await eventually(() => /database unavailable, retrying/.test(daemon.stderr()), 30_000, 'the outage in the log');
    // Down for a while: several tries fail, none of them fails a tick or the daemon.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(daemon.child.exitCode).toBeNull();
    expect((await replies()).size).toBe(1);

    await server.start();
    await eventually(async () => (await replies()).size === 3, 60_000, 'replies to the DMs sent during the outage');
    await dm('after the outage');
    await eventually(async () => (await replies()).size === 4, 30_000, 'a reply after the outage');
    await new Promise((r) => setTimeout(r, 2_000));
    const all = await replies();
    for (const { rumorId, text } of sent) expect(all.get(rumorId)).toEqual([`echo: ${text}`]);
    expect([...all.values()].flat()).toHaveLength(4);
    expect(daemon.stderr()).toMatch(/database available again/);
    expect(daemon.stderr()).not.toMatch(/tick.*(error|failed)/i);
    expect(daemon.stdout() + daemon.stderr()).not.toContain('test-password');
    expect(await daemon.stop('SIGTERM')).toBe(0);
  });
});
