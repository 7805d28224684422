/**
 * A machine lost and its agents brought back from the mnemonic alone, through the real CLI: home A
 * runs three agents (facts taught, a reminder set, 20 DMs answered), stops (final snapshots) and is
 * deleted; a DM arrives while nothing runs; `agent restore` into an empty home B; `agent run`. The
 * reminder fires once, recall answers from the restored facts, the DM sent while down is answered
 * and none of the 20 again, the trajectory continues its chain and `--verify` passes across the
 * machines, and no snapshot event carries the mnemonic, a private key or an API key. Home B runs on
 * SQLite, then on PostgreSQL.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { tagValue } from '../../src/protocol/event.js';
import { bytesToHex, hexToBytes } from '../../src/protocol/hex.js';
import { Kind } from '../../src/protocol/kinds.js';
import { deriveFromSeed, mnemonicToSeed } from '../../src/protocol/nip06.js';
import { nsecEncode } from '../../src/protocol/nip19.js';
import { parseChatRumor } from '../../src/protocol/nip17.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import { MANIFEST_D, REGISTRY_D, SNAPSHOT_KIND } from '../../src/recovery/format.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, startTestRelay, stopAll, tempHome, testPool } from '../helpers/daemon.js';
import { dropTestDatabases, engineEnv } from '../helpers/postgres.js';

afterAll(async () => {
  await stopAll();
  await dropTestDatabases();
});

const API_KEY = 'sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const REMIND_SECONDS = 12;

// Home A is a laptop on SQLite; home B, the new machine, restores into each engine in turn.
describe.each(['sqlite', 'postgres'] as const)('agent restore (into %s)', (engine) => {
  it('brings three agents back into an empty home, and they carry on', { timeout: 120_000 }, async () => {
    await loadFastCrypto();
    const seed = mnemonicToSeed(TEST_MNEMONIC);
    const owner = new SecretKeySigner(deriveFromSeed(seed, 0).secretKey);
    const relay = await startTestRelay();
    const config = { relays: [relay.url], recovery: { intervalMs: 300 } };
    const env = { AGENT_MNEMONIC: TEST_MNEMONIC, AGENT_LLM_API_KEY: API_KEY };
    const homeA = tempHome(config);
    const pool = testPool(relay.url, [owner]);

    // Home A: three agents.
    const keys: Record<string, string> = {};
    for (const [name, behavior] of [['alpha', 'assistant'], ['beta', 'assistant'], ['gamma', 'echo']] as const) {
      const created = await runCli(['create', name, '--behavior', behavior, '--home', homeA, '--json'], { env });
      expect(created.code, created.stderr).toBe(0);
      keys[name] = JSON.parse(created.stdout).publicKey;
    }
    let daemon = startCli(['run', '--home', homeA], env);
    await daemon.waitFor(/daemon ready/);
    const send = async (name: string, text: string): Promise<string> => {
      const r = await runCli(['send', name, text, '--home', homeA, '--timeout', '20'], { env, timeoutMs: 30_000 });
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    expect(await send('alpha', 'remember the cat is called Miso')).toMatch(/remember/i);
    expect(await send('beta', `remember the llm key is ${API_KEY}`)).toMatch(/remember/i);

    // 20 DMs to the echo agent from four senders (within the per-sender rate limit), each answered.
    const users = [0x51, 0x52, 0x53, 0x54].map((b) => new SecretKeySigner(hexToBytes(b.toString(16).repeat(32))));
    const userPool = testPool(relay.url, users);
    const echoes = async (): Promise<string[]> => {
      const out: string[] = [];
      for (const user of users) {
        for (const wrap of await userPool.fetch([{ kinds: [Kind.GiftWrap], '#p': [user.getPublicKey()] }])) {
          const opened = unwrapGift(wrap, user);
          if (opened.ok && opened.rumor.pubkey === keys.gamma) out.push(parseChatRumor(opened.rumor).text);
        }
      }
      return out;
    };
    for (let i = 0; i < 20; i++) {
      const [wrap] = buildDirectMessage(users[i % 4]!, keys.gamma!, `message ${i}`);
      expect((await userPool.publish(wrap!.event))[0]).toMatchObject({ ok: true });
    }
    await eventually(async () => (await echoes()).length >= 20, 40_000, '20 echoes');

    // The reminder is set last, just before the stop, so that it comes due while no machine runs
    // however slowly the 20 DMs went (a loaded machine once let an earlier reminder fire on home A).
    expect(await send('alpha', `remind me in ${REMIND_SECONDS}s to water the plants`)).toMatch(/remind/i);
    const reminderDue = Date.now() + REMIND_SECONDS * 1000;

    // A graceful stop writes a final snapshot of each agent; then home A is gone.
    expect(await daemon.stop('SIGTERM')).toBe(0);
    expect(Date.now(), 'home A stopped before the reminder came due').toBeLessThan(reminderDue);
    const manifests = await pool.fetch([{ kinds: [SNAPSHOT_KIND], authors: Object.values(keys), '#d': [MANIFEST_D] }]);
    expect(manifests).toHaveLength(3);
    for (const m of manifests) {
      const agentKey = new SecretKeySigner(deriveFromSeed(seed, Object.values(keys).indexOf(m.pubkey) + 1).secretKey);
      expect(JSON.parse(agentKey.nip44.decrypt(m.pubkey, m.content)).final).toBe(true);
    }
    const seqOf = (t: NostrEvent): number => Number(tagValue(t, 'seq'));
    const ticksA = await pool.fetch([{ kinds: [Kind.TrajectoryTick], authors: [keys.gamma!] }]);
    const headA = ticksA.reduce((a, b) => (seqOf(b) > seqOf(a) ? b : a));
    // A create tick and one per DM.
    expect(seqOf(headA)).toBe(21);
    rmSync(homeA, { recursive: true, force: true });

    // No snapshot event (nor the registry) holds the mnemonic, a private key or the API key, even decrypted.
    const all = await pool.fetch([{ kinds: [SNAPSHOT_KIND], authors: [owner.getPublicKey(), ...Object.values(keys)] }]);
    expect(all.some((e) => tagValue(e, 'd') === REGISTRY_D)).toBe(true);
    const secrets = [TEST_MNEMONIC, API_KEY, ...[0, 1, 2, 3].flatMap((a) => {
      const k = deriveFromSeed(seed, a).secretKey;
      return [bytesToHex(k), nsecEncode(k)];
    })];
    for (const e of all) {
      const account = e.pubkey === owner.getPublicKey() ? 0 : Object.values(keys).indexOf(e.pubkey) + 1;
      const plaintext = new SecretKeySigner(deriveFromSeed(seed, account).secretKey).nip44.decrypt(e.pubkey, e.content);
      for (const s of secrets) {
        expect(JSON.stringify(e)).not.toContain(s);
        expect(plaintext).not.toContain(s);
      }
      expect(plaintext).not.toContain(TEST_MNEMONIC.split(' ').slice(0, 4).join(' '));
    }

    // While no machine runs: a DM to the echo agent.
    const [down] = buildDirectMessage(users[0]!, keys.gamma!, 'sent while down');
    expect((await userPool.publish(down!.event))[0]).toMatchObject({ ok: true });

    // Home B: a dry run writes nothing; the restore prints what came back per agent.
    const homeB = tempHome(config);
    const envB = { ...env, ...(await engineEnv(engine)) };
    const dry = await runCli(['restore', '--dry-run', '--home', homeB], { env: envB });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would restore 3 agent/);
    expect((await runCli(['list', '--home', homeB, '--json'], { env: envB })).stdout).not.toMatch(/alpha/);
    const restored = await runCli(['restore', '--home', homeB], { env: envB });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/restored 3 agent\(s\) \(found by the owner's registry\)/);
    expect(restored.stdout).toMatch(/alpha: 1 fact, 1 schedule, \d+ ticks/);
    expect(restored.stdout).toMatch(/gamma: 0 facts, 0 schedules, 21 ticks/);
    const again = await runCli(['restore', '--home', homeB, '--json'], { env: envB });
    expect(again.code).toBe(2);
    expect(JSON.parse(again.stderr).code).toBe('RESTORE_HOME_NOT_EMPTY');

    // The reminder came due while no machine ran.
    while (Date.now() < reminderDue + 500) await new Promise((r) => setTimeout(r, 200));
    daemon = startCli(['run', '--home', homeB], envB);
    await daemon.waitFor(/daemon ready: 3 agents/);
    const reminders = async (): Promise<string[]> => {
      const out: string[] = [];
      for (const wrap of await pool.fetch([{ kinds: [Kind.GiftWrap], '#p': [owner.getPublicKey()] }])) {
        const opened = unwrapGift(wrap, owner);
        if (opened.ok && opened.rumor.pubkey === keys.alpha) out.push(parseChatRumor(opened.rumor).text);
      }
      return out.filter((t) => /^Reminder: water the plants/.test(t));
    };
    await eventually(async () => (await reminders()).length > 0, 30_000, 'the reminder');

    // Recall answers from the restored facts; the DM sent while down is answered, the 20 are not again.
    const recall = await runCli(['send', 'alpha', 'recall cat', '--home', homeB, '--timeout', '20'], { env: envB, timeoutMs: 30_000 });
    expect(recall.code, recall.stderr).toBe(0);
    expect(recall.stdout).toMatch(/Miso/);
    await eventually(async () => (await echoes()).includes('echo: sent while down'), 30_000, 'the answer to the DM sent while down');
    await new Promise((r) => setTimeout(r, 1500));
    const answered = await echoes();
    for (let i = 0; i < 20; i++) expect(answered.filter((t) => t === `echo: message ${i}`), `message ${i}`).toHaveLength(1);
    expect(answered.filter((t) => t === 'echo: sent while down')).toHaveLength(1);
    expect(await reminders()).toHaveLength(1);

    // The trajectory continues the chain: tick 22 (here) follows tick 21 (the other machine's).
    const next = await eventually(async () => (await pool.fetch([{ kinds: [Kind.TrajectoryTick], authors: [keys.gamma!] }])).find((t) => seqOf(t) === 22), 30_000, 'tick 22 of gamma');
    expect(tagValue(next, 'prev')).toBe(headA.id);
    for (const name of ['alpha', 'gamma']) {
      const verified = await runCli(['trajectory', name, '--verify', '--relay', relay.url, '--home', homeB], { env: envB, timeoutMs: 30_000 });
      expect(verified.code, `${name}: ${verified.stdout}${verified.stderr}`).toBe(0);
      expect(verified.stdout).toMatch(/verified: \d+ ticks/);
    }
    expect(await daemon.stop('SIGTERM')).toBe(0);
  });
});
