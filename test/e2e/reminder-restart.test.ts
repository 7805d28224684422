/** An alarm survives the daemon being down: a 3-second reminder, 10 seconds of downtime, delivered once (on each storage engine). */
import { afterAll, describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { deriveFromSeed, mnemonicToSeed } from '../../src/protocol/nip06.js';
import { parseChatRumor } from '../../src/protocol/nip17.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, stopAll, tempHome } from '../helpers/daemon.js';
import { dropTestDatabases, engineEnv } from '../helpers/postgres.js';

let pool: WsRelayPool | undefined;
afterAll(async () => {
  await pool?.close();
  await stopAll();
  await dropTestDatabases();
});

describe.each(['sqlite', 'postgres'] as const)('alarms across a restart (%s)', (engine) => {
  it('a reminder due while the daemon is stopped is delivered exactly once after it starts again', async () => {
    await pool?.close();
    await loadFastCrypto();
    const home = tempHome();
    const env = { AGENT_MNEMONIC: TEST_MNEMONIC, ...(await engineEnv(engine)) };
    let up = startCli(['up', '--home', home, '--port', '0'], env);
    const [, port] = await up.waitFor(/relay\s+ws:\/\/127\.0\.0\.1:(\d+)/);
    await up.waitFor(/agent up: ready/);

    const set = await runCli(['send', 'assistant', 'remind me in 3s to water the plants', '--home', home, '--timeout', '20'], { env });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/remind/i);
    expect(await up.stop('SIGTERM')).toBe(0);
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, 10_000));

    up = startCli(['up', '--home', home, '--port', port!], env);
    await up.waitFor(/agent up: ready/);
    const owner = new SecretKeySigner(deriveFromSeed(mnemonicToSeed(TEST_MNEMONIC), 0).secretKey);
    pool = new WsRelayPool({ relays: [`ws://127.0.0.1:${port}`], pingIntervalMs: 0 });
    pool.addAuthSigner(owner);
    const reminders = async (): Promise<Array<{ text: string; at: number }>> => {
      const out: Array<{ text: string; at: number }> = [];
      for (const wrap of await pool!.fetch([{ kinds: [1059], '#p': [owner.getPublicKey()] }])) {
        const opened = unwrapGift(wrap, owner);
        if (!opened.ok) continue;
        const text = parseChatRumor(opened.rumor).text;
        if (/water the plants/.test(text) && /^Reminder/i.test(text)) out.push({ text, at: opened.rumor.created_at * 1000 });
      }
      return out;
    };
    const first = await eventually(async () => (await reminders()).length > 0, 30_000, 'the reminder').catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\n${up.stdout()}\n${up.stderr()}`);
    });
    expect(first).toBe(true);
    await new Promise((r) => setTimeout(r, 3000));
    const all = await reminders();
    expect(all).toHaveLength(1);
    expect(all[0]!.text).toMatch(/^Reminder: water the plants/);
    // It fired after the restart, not before the stop (the daemon was down when it came due).
    expect(all[0]!.at).toBeGreaterThanOrEqual(Math.floor(stoppedAt / 1000) * 1000);
    expect(await up.stop('SIGTERM')).toBe(0);
  });
});
