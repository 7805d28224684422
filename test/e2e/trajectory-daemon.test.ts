/**
 * Trajectories from the real daemon: 20 DMs to an echo agent, every tick published as a chained,
 * owner-encrypted event through the outbox; `agent trajectory --verify` passes against relay-dev,
 * fails naming the break when one tick event is deleted; no published event carries a secret.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { bytesToHex, hexToBytes } from '../../src/protocol/hex.js';
import { Kind } from '../../src/protocol/kinds.js';
import { deriveFromSeed, mnemonicToSeed } from '../../src/protocol/nip06.js';
import { nsecEncode } from '../../src/protocol/nip19.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, startTestRelay, stopAll, tempHome, testPool } from '../helpers/daemon.js';
import { relayMode } from '../helpers/relay-modes.js';

afterAll(stopAll);

// One relay habit per e2e file keeps the suite bounded; this one: the challenge only when something needs it.
describe.each([relayMode('auth on-demand')])('trajectories published by the daemon ($name)', ({ options }) => {
  it('verify after 20 echo ticks, break on a deleted tick, no secrets anywhere', { timeout: 120_000 }, async () => {
    await loadFastCrypto();
    const relay = await startTestRelay(options);
    const home = tempHome({ relays: [relay.url] });
    const env = { AGENT_MNEMONIC: TEST_MNEMONIC };
    const created = await runCli(['create', 'echo', '--behavior', 'echo', '--home', home, '--json'], { env });
    const agentPubkey: string = JSON.parse(created.stdout).publicKey;
    const daemon = startCli(['run', '--home', home], env);
    await daemon.waitFor(/daemon ready/);

    // Four senders, five DMs each: within the default per-sender rate limit (10 a minute).
    const users = [0x46, 0x47, 0x48, 0x49].map((b) => new SecretKeySigner(hexToBytes(b.toString(16).repeat(32))));
    const user = users[0]!;
    const pool = testPool(relay.url);
    for (let i = 0; i < 20; i++) {
      const [wrap] = buildDirectMessage(users[i % 4]!, agentPubkey, `secret plan number ${i}`);
      expect((await pool.publish(wrap!.event))[0]).toMatchObject({ ok: true });
    }
    // 1 create tick + 20 DM ticks, each published as a kind 9230 event.
    await eventually(async () => (await pool.fetch([{ kinds: [Kind.TrajectoryTick], authors: [agentPubkey] }])).length >= 21, 60_000, '21 tick events');
    await eventually(async () => {
      const [session] = await pool.fetch([{ kinds: [Kind.TrajectorySession], authors: [agentPubkey] }]);
      return session?.tags.some((t) => t[0] === 'tick' && Number(t[1]) >= 21);
    }, 30_000, 'the session event counting 21 ticks');

    const ok = await runCli(['trajectory', 'echo', '--verify', '--relay', relay.url, '--home', home], { env, timeoutMs: 30_000 });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/verified: 21 ticks/);

    // Private by default: the content is NIP-44 to the owner; nobody else can read the DM texts.
    const ticks = await pool.fetch([{ kinds: [Kind.TrajectoryTick], authors: [agentPubkey] }]);
    for (const t of ticks) expect(t.content).not.toContain('secret plan');
    expect(() => user.nip44.decrypt(agentPubkey, ticks[0]!.content)).toThrow();

    // No published event anywhere carries the mnemonic, an nsec or a private key.
    const seed = mnemonicToSeed(TEST_MNEMONIC);
    const secrets = [TEST_MNEMONIC, ...[0, 1, 2].flatMap((a) => {
      const k = deriveFromSeed(seed, a).secretKey;
      return [bytesToHex(k), nsecEncode(k)];
    })];
    const everything = relay.relay.store.query([{ limit: 5000 }]);
    expect(everything.length).toBeGreaterThan(40);
    const dump = JSON.stringify(everything);
    for (const s of secrets) expect(dump).not.toContain(s);
    expect(dump).not.toMatch(/nsec1[02-9ac-hj-np-z]{58}/);

    // Delete one tick event from the relay: the chain has a gap, and verify says where.
    const victim = ticks.find((t) => t.tags.some((x) => x[0] === 'seq' && x[1] === '7'))!;
    expect(relay.relay.store.deleteById(victim.id)).toBeTruthy();
    const broken = await runCli(['trajectory', 'echo', '--verify', '--relay', relay.url, '--home', home], { env, timeoutMs: 30_000 });
    expect(broken.code).toBe(1);
    expect(broken.stdout + broken.stderr).toMatch(/missing/i);
    expect(broken.stdout + broken.stderr).toMatch(/seq 7|#7|7/);

    const list = await runCli(['trajectory', 'echo', '--limit', '3', '--home', home], { env });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/dm/);
    expect(await daemon.stop('SIGTERM')).toBe(0);
  });
});
