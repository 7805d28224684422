/**
 * No stranger can silence an agent: an open echo agent run by the real daemon (`agent run`, a child
 * process) through relay-dev on loopback gets oversized DMs that must be answered in parts, then 50
 * hostile DMs from 50 strangers (and a reply its relay refuses as `invalid:`), and stays `active`
 * with no failures, answering the next DM at once.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NostrEvent } from '../../src/protocol/event.js';
import { createChatRumor, wrapForRecipients } from '../../src/protocol/nip17.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import type { WsRelayPool } from '../../src/relay/relay-pool.js';
import type { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, startTestRelay, stopAll, tempHome, testPool, type CliProcess } from '../helpers/daemon.js';
import { hostileDms, strangerKey } from '../helpers/hostile-dms.js';

const env = { AGENT_MNEMONIC: TEST_MNEMONIC };
const unlabel = (part: string): string => part.replace(/^\[\d+\/\d+\] /, '');
const now = (): number => Math.floor(Date.now() / 1000);

let home = '';
let agent = '';
let daemon: CliProcess;
let pool: WsRelayPool;
/** Every stranger of these tests, so the pool can AUTH as each to read what the agent sent it. */
const strangers = Array.from({ length: 60 }, (_, i) => strangerKey(i + 1));
/** The relay refuses the agent's replies to this one as `invalid:` (the outbox side of input faults). */
const refusedPeer = strangers[56]!;

beforeAll(async () => {
  const relay = await startTestRelay({
    configure: (r) =>
      r.rejectEvent.push((e) => (e.kind === 4 && e.pubkey === agent && e.tags.some((t) => t[0] === 'p' && t[1] === refusedPeer.getPublicKey()) ? 'invalid: this relay refuses that reply' : undefined)),
  });
  home = tempHome({ relays: [relay.url] });
  const created = await runCli(['create', 'echo', '--behavior', 'echo', '--home', home, '--json'], { env });
  expect(created.code).toBe(0);
  agent = JSON.parse(created.stdout).publicKey;
  daemon = startCli(['run', '--home', home], env);
  await daemon.waitFor(/daemon ready/);
  pool = testPool(relay.url, strangers);
}, 60_000);
afterAll(stopAll);

/** The agent as `agent status --json` shows it. */
async function status(): Promise<{ state: string; consecutiveFailures: number; failures: number }> {
  const out = await runCli(['status', 'echo', '--home', home, '--json'], { env });
  return JSON.parse(out.stdout).agent;
}

/** Texts of the NIP-17 messages the agent sent `to`, oldest first. */
async function nip17From(to: SecretKeySigner): Promise<string[]> {
  const wraps = await pool.fetch([{ kinds: [1059], '#p': [to.getPublicKey()] }]);
  const rumors = wraps.map((w) => unwrapGift(w, to)).flatMap((r) => (r.ok && r.rumor.pubkey === agent ? [r.rumor] : []));
  return rumors.sort((a, b) => a.created_at - b.created_at).map((r) => r.content);
}

/** Texts of the kind 4s the agent sent `to`, oldest first. */
async function nip04From(to: SecretKeySigner): Promise<string[]> {
  const events = await pool.fetch([{ kinds: [4], authors: [agent], '#p': [to.getPublicKey()] }]);
  return events.sort((a, b) => a.created_at - b.created_at).map((e) => to.nip04.decrypt(agent, e.content));
}

function dmTo(from: SecretKeySigner, text: string): NostrEvent {
  const rumor = createChatRumor(from.getPublicKey(), { recipients: [agent], content: text, createdAt: now() });
  return wrapForRecipients(rumor, from, [agent], { now: now(), random: Math.random, newWrapKey: () => schnorr.utils.randomSecretKey() }, false)[0]!;
}

describe('an open agent under hostile DMs', () => {
  it('answers a 40 KB NIP-17 DM and three 60 KB NIP-04 DMs in parts, and stays active with no failures', { timeout: 90_000 }, async () => {
    const big = strangers[50]!;
    const text17 = 'forty kilobytes of text '.repeat(1690); // 40,560 bytes: about the most one gift wrap carries
    expect((await pool.publish(dmTo(big, text17)))[0]).toMatchObject({ ok: true });
    const senders04 = [strangers[51]!, strangers[52]!, strangers[53]!];
    const texts04 = senders04.map((s, i) => `${'abc'[i]} `.repeat(30_000));
    for (const [i, s] of senders04.entries()) {
      const event = s.signEvent({ kind: 4, created_at: now(), tags: [['p', agent]], content: s.nip04.encrypt(agent, texts04[i]!) });
      expect((await pool.publish(event))[0]).toMatchObject({ ok: true });
    }
    const parts17 = await eventually(async () => {
      const got = await nip17From(big);
      return got.length > 1 && /^\[(\d+)\/\1\] /.test(got.at(-1)!) ? got : undefined;
    }, 45_000, 'the NIP-17 reply in parts');
    expect(parts17.map(unlabel).join('')).toBe(`echo: ${text17}`);
    for (const [i, s] of senders04.entries()) {
      const parts = await eventually(async () => {
        const got = await nip04From(s);
        return got.length > 1 && /^\[(\d+)\/\1\] /.test(got.at(-1)!) ? got : undefined;
      }, 45_000, `the NIP-04 reply ${i + 1} in parts`);
      expect(parts.map(unlabel).join('')).toBe(`echo: ${texts04[i]}`);
    }
    expect(await status()).toMatchObject({ state: 'active', consecutiveFailures: 0, failures: 0 });
  });

  it('50 hostile DMs from 50 strangers leave it active; the next normal DM is answered within 2 s', { timeout: 120_000 }, async () => {
    const hostile = hostileDms(agent, 50);
    for (const dm of hostile) await pool.publish(dm.event);
    // Those it can answer get an answer: an echo in parts, or the short notice.
    for (const dm of hostile.filter((d) => d.answered)) {
      const got = await eventually(async () => {
        const texts = dm.event.kind === 4 ? await nip04From(dm.from) : await nip17From(dm.from);
        return texts.length > 0 && (texts.some((t) => t.startsWith('Sorry, that message is too long')) || /^\[(\d+)\/\1\] /.test(texts.at(-1)!)) ? texts : undefined;
      }, 60_000, `the answer to "${dm.what}"`);
      if (dm.what.includes('subject') || dm.what.includes('payload cap')) expect(got).toEqual(['Sorry, that message is too long for me to answer.']);
      else expect(unlabel(got[0]!).startsWith('echo: ')).toBe(true);
    }
    expect(await status()).toMatchObject({ state: 'active', consecutiveFailures: 0, failures: 0 });

    // A reply the relay refuses as `invalid:` fails that outbox row for good; the agent is untouched.
    const ask = refusedPeer.signEvent({ kind: 4, created_at: now(), tags: [['p', agent]], content: refusedPeer.nip04.encrypt(agent, 'hello?') });
    expect((await pool.publish(ask))[0]).toMatchObject({ ok: true });
    await eventually(() => /gave up publishing.*invalid: this relay refuses that reply/.test(daemon.stderr()), 20_000, 'the outbox giving up on the refused reply');
    expect(await status()).toMatchObject({ state: 'active', consecutiveFailures: 0, failures: 0 });

    const friend = strangers[55]!;
    expect((await pool.publish(dmTo(friend, 'are you still there?')))[0]).toMatchObject({ ok: true });
    await eventually(async () => (await nip17From(friend)).includes('echo: are you still there?'), 2_000, 'the answer to a normal DM within 2 s');
    expect(await status()).toMatchObject({ state: 'active', consecutiveFailures: 0 });
    // Nothing the strangers sent reached the agent's behavior unrefused: the daemon logged no failed tick.
    expect(daemon.stderr()).not.toMatch(/→ error/);
    expect(daemon.stderr()).toMatch(/dm → refused/);
  });
});
