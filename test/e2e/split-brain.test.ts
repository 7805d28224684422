/**
 * Split brain through the real CLI: an agent restored on machine B while machine A still has it.
 * B runs it and dies without a final snapshot; A, started again, finds B's newer snapshot, warns
 * and holds the agent (a DM waits) until `agent takeover`, which imports B's state: A answers the
 * waiting DM and the trajectory chain stays whole. A then stops with a final snapshot, and B,
 * started again, imports that before it runs the agent.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { Kind } from '../../src/protocol/kinds.js';
import { deriveFromSeed, mnemonicToSeed } from '../../src/protocol/nip06.js';
import { parseChatRumor } from '../../src/protocol/nip17.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import { MANIFEST_D, SNAPSHOT_KIND } from '../../src/recovery/format.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, startTestRelay, stopAll, tempHome, testPool } from '../helpers/daemon.js';

afterAll(stopAll);

describe('split brain', () => {
  it('holds an agent another machine may run, until agent takeover or its final snapshot', { timeout: 150_000 }, async () => {
    await loadFastCrypto();
    const relay = await startTestRelay();
    const config = { relays: [relay.url], recovery: { intervalMs: 200 } };
    const env = { AGENT_MNEMONIC: TEST_MNEMONIC };
    const agentKey = new SecretKeySigner(deriveFromSeed(mnemonicToSeed(TEST_MNEMONIC), 1).secretKey);
    const user = new SecretKeySigner(hexToBytes('61'.repeat(32)));
    const pool = testPool(relay.url, [user]);
    const dm = async (text: string): Promise<void> => {
      const [wrap] = buildDirectMessage(user, agentKey.getPublicKey(), text);
      expect((await pool.publish(wrap!.event))[0]).toMatchObject({ ok: true });
    };
    const echoes = async (): Promise<string[]> => {
      const out: string[] = [];
      for (const wrap of await pool.fetch([{ kinds: [Kind.GiftWrap], '#p': [user.getPublicKey()] }])) {
        const opened = unwrapGift(wrap, user);
        if (opened.ok && opened.rumor.pubkey === agentKey.getPublicKey()) out.push(parseChatRumor(opened.rumor).text);
      }
      return out;
    };
    const answered = (text: string) => eventually(async () => (await echoes()).includes(`echo: ${text}`), 30_000, `the answer to "${text}"`);
    const manifest = async (): Promise<{ generation: number; daemon: string; final: boolean; trajectory: { seq: number } }> => {
      const [event] = await pool.fetch([{ kinds: [SNAPSHOT_KIND], authors: [agentKey.getPublicKey()], '#d': [MANIFEST_D] }]);
      return JSON.parse(agentKey.nip44.decrypt(agentKey.getPublicKey(), event!.content));
    };

    // Machine A: the agent answers one DM, then A stops (final snapshot).
    const homeA = tempHome(config);
    expect((await runCli(['create', 'e', '--behavior', 'echo', '--home', homeA], { env })).code).toBe(0);
    let a = startCli(['run', '--home', homeA], env);
    await a.waitFor(/daemon ready/);
    await dm('one');
    await answered('one');
    expect(await a.stop('SIGTERM')).toBe(0);
    const fromA = await manifest();
    expect(fromA.final).toBe(true);

    // Machine B: restored from it, answers a DM, and dies without a final snapshot.
    const homeB = tempHome(config);
    expect((await runCli(['restore', '--home', homeB], { env })).code).toBe(0);
    let b = startCli(['run', '--home', homeB], env);
    await b.waitFor(/daemon ready/);
    await dm('two');
    await answered('two');
    // B's snapshot after that tick (debounced 200 ms) is on the relay before it dies.
    await eventually(async () => {
      const m = await manifest();
      return m.daemon !== fromA.daemon && m.trajectory.seq === fromA.trajectory.seq + 1;
    }, 20_000, "B's snapshot after its tick");
    await b.stop('SIGKILL');
    const fromB = await manifest();
    expect(fromB.final).toBe(false);
    expect(fromB.generation).toBeGreaterThan(fromA.generation);

    // A again: B's newer snapshot, not final: the agent is held; a DM waits.
    a = startCli(['run', '--home', homeA], env);
    await a.waitFor(/daemon ready/);
    await eventually(() => /agent e is held/.test(a.stderr()), 10_000, 'the hold warning');
    expect(a.stderr()).toMatch(/agent takeover e/);
    await dm('three');
    await new Promise((r) => setTimeout(r, 3000));
    expect(await echoes()).not.toContain('echo: three');
    expect(await a.stop('SIGTERM')).toBe(0);
    // A held it, so A wrote no snapshot of it: B's is still the newest.
    expect((await manifest()).generation).toBe(fromB.generation);

    // The owner takes it over on A: B's state is imported, and A runs it.
    const took = await runCli(['takeover', 'e', '--home', homeA], { env });
    expect(took.code, took.stderr).toBe(0);
    expect(took.stdout).toMatch(/e: taken over \(imported the other machine's snapshot/);
    a = startCli(['run', '--home', homeA], env);
    await a.waitFor(/daemon ready/);
    await answered('three');
    expect(a.stderr()).not.toMatch(/is held/);
    const verified = await runCli(['trajectory', 'e', '--verify', '--relay', relay.url, '--home', homeA], { env, timeoutMs: 30_000 });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(new RegExp(`verified: ${fromA.trajectory.seq + 2} ticks`));
    expect(await a.stop('SIGTERM')).toBe(0);

    // A stopped with a final snapshot: B, started again, imports it first and runs the agent.
    const finalA = await manifest();
    expect(finalA).toMatchObject({ final: true, daemon: fromA.daemon });
    b = startCli(['run', '--home', homeB], env);
    await b.waitFor(/daemon ready/);
    // The check runs once the daemon is up (the agent is not run before its verdict).
    await eventually(() => /when it stopped; its state is imported first/.test(b.stderr()), 10_000, 'the import of the final snapshot');
    await dm('four');
    await answered('four');
    const again = await runCli(['trajectory', 'e', '--verify', '--relay', relay.url, '--home', homeB], { env, timeoutMs: 30_000 });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(await b.stop('SIGTERM')).toBe(0);
    expect((await echoes()).filter((t) => t === 'echo: three')).toHaveLength(1);
  });
});
