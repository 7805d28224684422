/**
 * Every NIP-42 habit relay-dev can play, through the real daemon and CLI at once: one `agent run`
 * hosting an echo agent per relay, each agent on a relay of its own mode. Per mode, the owner's
 * `agent send` (NIP-17 both ways), a stranger's NIP-04 DM and its kind 4 answer, and
 * `agent trajectory --verify` against that relay alone. The in-process tests (test/relay) run the
 * whole DM matrix per mode; this proves the composed daemon, owner chat and verify do too. The daemon
 * also listens on a relay that is down: `agent status` shows its circuit breaker open.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { RunningRelay } from '../../relay-dev/index.js';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { Kind } from '../../src/protocol/kinds.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, startTestRelay, stopAll, tempHome, testPool } from '../helpers/daemon.js';
import { RELAY_MODES } from '../helpers/relay-modes.js';

afterAll(stopAll);

const env = { AGENT_MNEMONIC: TEST_MNEMONIC };
const stranger = new SecretKeySigner(hexToBytes('4a'.repeat(32)));

interface Lane {
  mode: string;
  relay: RunningRelay;
  name: string;
  pubkey: string;
}

describe('one daemon, one echo agent per relay mode', () => {
  it('owner chat, NIP-04 from a stranger and trajectory verify work against every mode', { timeout: 150_000 }, async () => {
    await loadFastCrypto();
    const relays = await Promise.all(RELAY_MODES.map((m) => startTestRelay(m.options)));
    const home = tempHome({ relays: [relays[0]!.url] });
    const lanes: Lane[] = [];
    for (const [i, mode] of RELAY_MODES.entries()) {
      const name = `echo${i}`;
      const created = await runCli(['create', name, '--behavior', 'echo', '--relay', relays[i]!.url, '--home', home, '--json'], { env });
      expect(created.code, created.stderr).toBe(0);
      lanes.push({ mode: mode.name, relay: relays[i]!, name, pubkey: JSON.parse(created.stdout).publicKey });
    }
    const dead = await startTestRelay();
    await dead.close();
    const daemon = startCli(['run', '--home', home, '--relay', dead.url], env);
    await daemon.waitFor(/daemon ready/);

    // The owner's side: `agent send` listens for the reply on the agent's relay and publishes through it.
    const sent = await Promise.all(lanes.map((l) => runCli(['send', l.name, `hello over ${l.mode}`, '--home', home, '--timeout', '40', '--json'], { env, timeoutMs: 60_000 })));
    for (const [i, r] of sent.entries()) {
      expect(r.stderr, lanes[i]!.mode).toBe('');
      expect(JSON.parse(r.stdout), lanes[i]!.mode).toMatchObject({ reply: `echo: hello over ${lanes[i]!.mode}`, accepted: [lanes[i]!.relay.url] });
    }

    // A stranger's NIP-04 DM, answered in kind 4 (read back as the stranger: some modes serve kind 4 only after AUTH).
    await Promise.all(
      lanes.map(async (l) => {
        const pool = testPool(l.relay.url, [stranger]);
        const dm = stranger.signEvent({ kind: Kind.EncryptedDirectMessage, created_at: Math.floor(Date.now() / 1000), tags: [['p', l.pubkey]], content: stranger.nip04.encrypt(l.pubkey, `legacy over ${l.mode}`) });
        expect((await pool.publish(dm))[0], l.mode).toMatchObject({ ok: true });
        const reply = await eventually(
          async () => (await pool.fetch([{ kinds: [Kind.EncryptedDirectMessage], authors: [l.pubkey], '#p': [stranger.getPublicKey()] }]))[0],
          40_000,
          `the kind 4 reply (${l.mode})`,
        );
        expect(stranger.nip04.decrypt(l.pubkey, reply.content), l.mode).toBe(`echo: legacy over ${l.mode}`);
        // 1 create tick + the owner's DM + the stranger's: three tick events published before verify runs.
        await eventually(async () => (await pool.fetch([{ kinds: [Kind.TrajectoryTick], authors: [l.pubkey] }])).length >= 3, 40_000, `three ticks (${l.mode})`);
      }),
    );

    const verified = await Promise.all(lanes.map((l) => runCli(['trajectory', l.name, '--verify', '--relay', l.relay.url, '--home', home], { env, timeoutMs: 40_000 })));
    for (const [i, r] of verified.entries()) {
      expect(r.stderr, lanes[i]!.mode).toBe('');
      expect(r.stdout, lanes[i]!.mode).toMatch(/verified: 3 ticks/);
      expect(r.code, lanes[i]!.mode).toBe(0);
    }

    // The relay that never came up: its breaker is open, in `agent status --json` and in words.
    const [json, words] = await Promise.all([runCli(['status', '--home', home, '--json'], { env }), runCli(['status', '--home', home], { env })]);
    const deadRelay = JSON.parse(json.stdout).relays.find((r: { url: string }) => r.url === dead.url);
    // Tripped: open, or half-open when its backoff ran out before the next probe (a loaded machine).
    expect(deadRelay).toMatchObject({ state: expect.not.stringMatching(/^connected$/), breaker: { state: expect.stringMatching(/^(open|half-open)$/), consecutiveFailures: expect.any(Number) } });
    expect(deadRelay.breaker.consecutiveFailures).toBeGreaterThanOrEqual(3);
    // The two reads race the breaker's own timer: the words may name the other tripped state.
    expect(words.stdout).toMatch(new RegExp(`breaker (open|half-open): ${dead.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
    for (const l of lanes) expect(JSON.parse(json.stdout).relays.find((r: { url: string }) => r.url === l.relay.url)?.breaker?.state, l.mode).toBe('closed');
    expect(await daemon.stop('SIGTERM')).toBe(0);
  });
});
