/**
 * `agent restore` against relay-dev with real homes: a memory large enough to need many chunks
 * comes back whole; without the registry the agents are found by scanning accounts; a chunk missing
 * from the relay stops the restore with an error naming the agent and the part, and nothing is
 * imported, not even the agents that read cleanly; an import refused half-way is rolled back whole.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { tagValue } from '../../src/protocol/event.js';
import { deriveFromSeed, mnemonicToSeed } from '../../src/protocol/nip06.js';
import { MANIFEST_D, REGISTRY_D, SNAPSHOT_KIND } from '../../src/recovery/format.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { openHome, openStorage } from '../../src/cli/home-context.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, startTestRelay, stopAll, tempHome, testPool } from '../helpers/daemon.js';

afterAll(stopAll);

describe('agent restore', () => {
  it('restores a chunked memory, scans without a registry, rolls back a refused import, and imports nothing when a chunk is missing', { timeout: 90_000 }, async () => {
    await loadFastCrypto();
    const relay = await startTestRelay();
    const config = { relays: [relay.url], recovery: { intervalMs: 200 } };
    const env = { AGENT_MNEMONIC: TEST_MNEMONIC };
    const seed = mnemonicToSeed(TEST_MNEMONIC);
    const pool = testPool(relay.url);

    const homeA = tempHome(config);
    for (const name of ['big', 'small']) expect((await runCli(['create', name, '--behavior', 'assistant', '--home', homeA], { env })).code).toBe(0);
    // 300 facts of ~400 bytes: about 130 KB, several NIP-44 payloads.
    const storageA = await openStorage(openHome(homeA, {}));
    for (let i = 0; i < 300; i++) await storageA.facts(0).add(`fact number ${i}: ${'the quick brown fox jumps over the lazy dog '.repeat(9)}`);
    await storageA.facts(1).add('the small agent remembers one thing');
    await storageA.close();
    const a = startCli(['run', '--home', homeA], env);
    await a.waitFor(/daemon ready/);
    // The agents run once the split-brain check has cleared them (after daemon ready); their first snapshots follow their create ticks.
    const big = new SecretKeySigner(deriveFromSeed(seed, 1).secretKey);
    const smallKey = new SecretKeySigner(deriveFromSeed(seed, 2).secretKey).getPublicKey();
    await eventually(async () => (await pool.fetch([{ kinds: [SNAPSHOT_KIND], authors: [big.getPublicKey(), smallKey], '#d': [MANIFEST_D] }])).length === 2, 30_000, 'both agents snapshotted');
    expect(await a.stop('SIGTERM')).toBe(0);

    const [bigManifest] = await pool.fetch([{ kinds: [SNAPSHOT_KIND], authors: [big.getPublicKey()], '#d': [MANIFEST_D] }]);
    const parts = JSON.parse(big.nip44.decrypt(big.getPublicKey(), bigManifest!.content)).parts as Array<{ name: string; chunks: unknown[] }>;
    expect(parts.find((p) => p.name === 'facts')!.chunks.length).toBeGreaterThanOrEqual(4);

    // Into an empty home: every fact, searchable again.
    const homeB = tempHome(config);
    const restored = await runCli(['restore', '--home', homeB, '--json'], { env });
    expect(restored.code, restored.stderr).toBe(0);
    const report = JSON.parse(restored.stdout);
    expect(report.source).toBe('registry');
    expect(report.agents.map((s: { name: string; facts: number }) => [s.name, s.facts])).toEqual([['big', 300], ['small', 1]]);
    const storageB = await openStorage(openHome(homeB, {}));
    expect(await storageB.facts(0).list({ limit: 1000 })).toHaveLength(300);
    expect((await storageB.facts(0).search('number 299'))[0]?.text).toMatch(/^fact number 299:/);
    await storageB.close();

    // Without the registry: found by their bot profiles (kind 0 naming the owner).
    const owner = new SecretKeySigner(deriveFromSeed(seed, 0).secretKey);
    const [registry] = await pool.fetch([{ kinds: [SNAPSHOT_KIND], authors: [owner.getPublicKey()], '#d': [REGISTRY_D] }]);
    expect(relay.relay.store.deleteById(registry!.id)).toBe(true);
    const scanned = await runCli(['restore', '--dry-run', '--home', tempHome(config)], { env });
    expect(scanned.code, scanned.stderr).toBe(0);
    expect(scanned.stdout).toMatch(/would restore 2 agent\(s\) \(found by scanning accounts\)/);
    expect(scanned.stdout).toMatch(/big: 300 facts/);

    // --force into a home whose index 1 holds another key: the first agent's import is rolled back too.
    const homeD = tempHome(config);
    expect((await runCli(['create', 'big', '--behavior', 'assistant', '--home', homeD], { env })).code).toBe(0);
    const other = { AGENT_MNEMONIC: 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about' };
    expect((await runCli(['create', 'stranger', '--behavior', 'echo', '--home', homeD], { env: other })).code).toBe(0);
    const forced = await runCli(['restore', '--force', '--home', homeD], { env });
    expect(forced.code).toBe(1);
    expect(forced.stderr).toMatch(/^agent: restore stopped, nothing was imported: small: snapshot agent: index 1 is agent "stranger" with another key/);
    const storageD = await openStorage(openHome(homeD, {}));
    expect(await storageD.facts(0).list({ limit: 10 })).toHaveLength(0);
    expect((await storageD.agents.list()).map((r) => r.name)).toEqual(['big', 'stranger']);
    await storageD.close();

    // A chunk of the second agent gone: nothing comes back, not even the first.
    const small = new SecretKeySigner(deriveFromSeed(seed, 2).secretKey);
    const smallEvents = await pool.fetch([{ kinds: [SNAPSHOT_KIND], authors: [small.getPublicKey()] }]);
    const factsChunk = smallEvents.find((e) => tagValue(e, 'd') === `${MANIFEST_D}/facts/0`)!;
    expect(relay.relay.store.deleteById(factsChunk.id)).toBe(true);
    const homeC = tempHome(config);
    const failed = await runCli(['restore', '--home', homeC, '--json'], { env });
    expect(failed.code).toBe(1);
    const error = JSON.parse(failed.stderr);
    expect(error.code).toBe('SNAPSHOT_CHUNK_MISSING');
    expect(error.error).toMatch(/nothing was imported: small: snapshot facts\/0: chunk 1 of 1/);
    const list = await runCli(['list', '--home', homeC, '--json'], { env });
    expect(JSON.parse(list.stdout)).toEqual([]);
  });
});
