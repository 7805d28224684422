/**
 * The daemon's snapshots of an agent answering a DM, through `agent run`, relay-dev and SQLite:
 * the DM's wake writes no snapshot of its own, its tick is in the one snapshot that follows (an
 * interval later), which writes the awake agent as resting, and a graceful stop writes the final
 * one. Each snapshot is one generation more, so the generations count the writes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { Kind } from '../../src/protocol/kinds.js';
import { parseChatRumor } from '../../src/protocol/nip17.js';
import { deriveFromSeed, mnemonicToSeed } from '../../src/protocol/nip06.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import { chunkD, MANIFEST_D, SNAPSHOT_KIND } from '../../src/recovery/format.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, startTestRelay, stopAll, tempHome, testPool } from '../helpers/daemon.js';

afterAll(stopAll);

describe('daemon snapshots', () => {
  it('writes one snapshot for a DM (none for the wake), the agent as resting, then the final one', { timeout: 90_000 }, async () => {
    await loadFastCrypto();
    const relay = await startTestRelay();
    // The agent stays awake (idleMs) well past the snapshot that follows its tick (intervalMs).
    const home = tempHome({ relays: [relay.url], recovery: { intervalMs: 1000 }, runtime: { idleMs: 60_000 } });
    const env = { AGENT_MNEMONIC: TEST_MNEMONIC };
    const agent = new SecretKeySigner(deriveFromSeed(mnemonicToSeed(TEST_MNEMONIC), 1).secretKey);
    const created = await runCli(['create', 'echo', '--behavior', 'echo', '--home', home], { env });
    expect(created.code, created.stderr).toBe(0);
    const pool = testPool(relay.url);
    const open = (e: NostrEvent): unknown => JSON.parse(agent.nip44.decrypt(agent.getPublicKey(), e.content));
    const newest = async (d: string): Promise<NostrEvent | undefined> => {
      const events = await pool.fetch([{ kinds: [SNAPSHOT_KIND], authors: [agent.getPublicKey()], '#d': [d] }]);
      return events.sort((a, b) => b.created_at - a.created_at)[0];
    };
    const manifest = async (): Promise<{ generation: number; final: boolean } | undefined> => {
      const event = await newest(MANIFEST_D);
      return event && (open(event) as { generation: number; final: boolean });
    };

    // A first run creates the agent; its stop leaves a final snapshot.
    let daemon = startCli(['run', '--home', home], env);
    await daemon.waitFor(/daemon ready/);
    await eventually(async () => (await manifest())?.generation, 20_000, 'the first snapshot');
    expect(await daemon.stop('SIGTERM')).toBe(0);
    const first = (await manifest())!;
    expect(first.final).toBe(true);

    // The second run claims the agent (one generation more); the agent rests until the DM comes.
    daemon = startCli(['run', '--home', home], env);
    await daemon.waitFor(/daemon ready/);
    await eventually(async () => (await manifest())?.generation === first.generation + 1, 20_000, 'the start claim');
    const user = new SecretKeySigner(hexToBytes('51'.repeat(32)));
    const userPool = testPool(relay.url, [user]);
    const [wrap] = buildDirectMessage(user, agent.getPublicKey(), 'hello snapshot');
    expect((await userPool.publish(wrap!.event))[0]).toMatchObject({ ok: true });
    await eventually(async () => {
      for (const reply of await userPool.fetch([{ kinds: [Kind.GiftWrap], '#p': [user.getPublicKey()] }])) {
        const opened = unwrapGift(reply, user);
        if (opened.ok && opened.rumor.pubkey === agent.getPublicKey() && parseChatRumor(opened.rumor).text === 'echo: hello snapshot') return true;
      }
      return false;
    }, 30_000, 'the echo');

    // The snapshot after the claim holds the DM: the wake before the tick wrote none.
    await eventually(async () => {
      const messages = await newest(chunkD('messages', 0));
      return messages && JSON.stringify(open(messages)).includes('hello snapshot');
    }, 20_000, 'the snapshot with the DM');
    const afterDm = (await manifest())!;
    expect(afterDm).toMatchObject({ generation: first.generation + 2, final: false });
    // Awake when written, yet written as resting (a restore brings it back dormant either way).
    expect((open((await newest(chunkD('agent', 0)))!) as { state: string }).state).toBe('dormant');
    const list = await runCli(['list', '--home', home, '--json'], { env });
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: 'echo', state: 'active' })]);

    // The stop's final snapshot is the next generation.
    expect(await daemon.stop('SIGTERM')).toBe(0);
    expect(await manifest()).toMatchObject({ generation: first.generation + 3, final: true });
  });
});
