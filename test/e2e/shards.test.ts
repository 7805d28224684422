/** Scaling out: two daemons, each hosting half of the agents (`agent run --shard i/n`), share a relay. */
import { cpSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { parseChatRumor } from '../../src/protocol/nip17.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, startTestRelay, stopAll, tempHome, testPool } from '../helpers/daemon.js';

afterAll(stopAll);

describe('agent run --shard', () => {
  it('each daemon answers only for its own agents, and every DM is answered once', { timeout: 90_000 }, async () => {
    await loadFastCrypto();
    const relay = await startTestRelay();
    const homeA = tempHome({ relays: [relay.url] });
    const env = { AGENT_MNEMONIC: TEST_MNEMONIC };
    const pubkeys: string[] = [];
    for (const name of ['even', 'odd']) {
      const r = await runCli(['create', name, '--behavior', 'echo', '--home', homeA, '--json'], { env });
      expect(r.code, r.stderr).toBe(0);
      pubkeys.push(JSON.parse(r.stdout).publicKey);
    }
    // The second machine gets a copy of the home (same mnemonic, same agents).
    const homeB = tempHome();
    cpSync(homeA, homeB, { recursive: true });
    const bad = await runCli(['run', '--shard', '2/2', '--home', homeA], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--shard must be I\/N/);

    const a = startCli(['run', '--shard', '0/2', '--home', homeA], env);
    const b = startCli(['run', '--shard', '1/2', '--home', homeB], env);
    await Promise.all([a.waitFor(/daemon ready/), b.waitFor(/daemon ready/)]);

    const user = new SecretKeySigner(hexToBytes('4b'.repeat(32)));
    const pool = testPool(relay.url, [user]);
    for (const [i, pubkey] of pubkeys.entries()) {
      expect((await pool.publish(buildDirectMessage(user, pubkey, `hello ${i}`)[0]!.event))[0]).toMatchObject({ ok: true });
    }
    const replies = async (): Promise<string[]> =>
      (await pool.fetch([{ kinds: [1059], '#p': [user.getPublicKey()] }]))
        .map((w) => unwrapGift(w, user))
        .flatMap((o) => (o.ok ? [`${o.rumor.pubkey === pubkeys[0] ? 'even' : 'odd'}: ${parseChatRumor(o.rumor).text}`] : []))
        .sort();
    await eventually(async () => (await replies()).length === 2, 30_000, 'both replies');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await replies()).toEqual(['even: echo: hello 0', 'odd: echo: hello 1']);
    expect(a.stderr()).toMatch(/\[tick\] even #\d+ dm → ok/);
    expect(a.stderr()).not.toMatch(/\[tick\] odd /);
    expect(b.stderr()).toMatch(/\[tick\] odd #\d+ dm → ok/);
    expect(b.stderr()).not.toMatch(/\[tick\] even /);
    expect(await a.stop('SIGTERM')).toBe(0);
    expect(await b.stop('SIGTERM')).toBe(0);
  });
});
