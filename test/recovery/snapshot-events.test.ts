/**
 * Snapshot events through relay-dev: a whole agent goes up as chunks plus a manifest and comes back
 * equal; a memory too large for one NIP-44 payload is chunked; a second snapshot signs only the
 * chunks that changed; forged, foreign, damaged, replayed, missing and future-version events are
 * each a clear error naming the agent and the part.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NostrEvent } from '../../src/protocol/event.js';
import { tagValue } from '../../src/protocol/event.js';
import { MAX_PLAINTEXT_BYTES } from '../../src/protocol/nip44.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import { splitUtf8 } from '../../src/recovery/chunks.js';
import { SnapshotError } from '../../src/recovery/errors.js';
import { buildSnapshot, selfEncrypted } from '../../src/recovery/events.js';
import { chunkD, MANIFEST_D, REGISTRY_D, registryChunkD, SNAPSHOT_KIND } from '../../src/recovery/format.js';
import { droppedEventSink, poolReader } from '../../src/recovery/pool-reader.js';
import { readRegistry, readSnapshot, scanAgentAccounts } from '../../src/recovery/read.js';
import { findAgents } from '../../src/recovery/restore.js';
import { SnapshotPublisher } from '../../src/recovery/publisher.js';
import { remoteHeads } from '../../src/recovery/split-brain.js';
import { SnapshotStateFile } from '../../src/recovery/state.js';
import { openStorage, sqliteUrl } from '../../src/storage/open.js';
import { finalizeEvent } from '../../src/protocol/crypto.js';
import { createAgentMetadata } from '../../src/protocol/nipae.js';
import { startTestRelay, stopAll } from '../helpers/daemon.js';
import type { RunningRelay } from '../../relay-dev/index.js';
import { accountSecret, accountSigner, sampleSnapshot } from './helpers.js';

let relay: RunningRelay;
let pool: WsRelayPool;
const sink = droppedEventSink();
const NOW = Date.parse('2026-01-10T10:00:00Z');

beforeAll(async () => {
  relay = await startTestRelay();
  pool = new WsRelayPool({ relays: [relay.url], pingIntervalMs: 0, onDroppedEvent: sink.onDroppedEvent });
});
afterAll(async () => {
  await pool.close();
  await stopAll();
});

async function publishAll(events: NostrEvent[]): Promise<void> {
  for (const event of events) {
    const [result] = await pool.publish(event);
    expect(result?.ok, result?.message).toBe(true);
  }
}

const reader = () => poolReader(pool, { dropped: sink, timeoutMs: 5000 });

async function expectSnapshotError(index: number, code: string, part: RegExp): Promise<SnapshotError> {
  const error = await readSnapshot(reader(), accountSigner(index + 1), `bot${index}`).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SnapshotError);
  const e = error as SnapshotError;
  expect(e.code, e.message).toBe(code);
  expect(e.part).toMatch(part);
  expect(e.message).toContain(`bot${index}`);
  return e;
}

describe('snapshot chunks', () => {
  it('splits on character boundaries, within the size, and joins back byte for byte', () => {
    const text = `${'a'.repeat(5)}${'ü€😀'.repeat(50)}`;
    for (const size of [4, 5, 7, 64]) {
      const parts = splitUtf8(text, size);
      expect(parts.join('')).toBe(text);
      for (const p of parts) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(size);
    }
    expect(() => splitUtf8('x', MAX_PLAINTEXT_BYTES + 1)).toThrow(/chunk size/);
  });
});

describe('snapshot events through relay-dev', () => {
  it('round-trips a whole agent, chunking a memory past the NIP-44 limit, every event under 64 KiB', async () => {
    const signer = accountSigner(1);
    // ~200 KB of facts: more than three NIP-44 payloads.
    const snapshot = sampleSnapshot(0, { facts: 400, factBytes: 500, now: NOW });
    expect(Buffer.byteLength(JSON.stringify(snapshot.facts))).toBeGreaterThan(3 * MAX_PLAINTEXT_BYTES);
    const built = buildSnapshot({ signer, snapshot, generation: 1, daemon: 'daemon-a-0001', final: false, now: NOW, createdAt: NOW / 1000 });
    const facts = built.manifest.parts.find((p) => p.name === 'facts')!;
    expect(facts.chunks.length).toBeGreaterThanOrEqual(7);
    for (const event of built.events) {
      expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(65_536);
      expect(event.kind).toBe(SNAPSHOT_KIND);
      expect(event.content).not.toContain('fact 1');
    }
    expect(tagValue(built.events.at(-1)!, 'd')).toBe(MANIFEST_D);
    await publishAll(built.events);

    const read = await readSnapshot(reader(), signer, 'bot0');
    expect(read.snapshot).toEqual(snapshot);
    expect(read.manifest.generation).toBe(1);
    expect(read.manifest.daemon).toBe('daemon-a-0001');
    expect(read.manifest.trajectory).toEqual({ seq: 4, id: 'b'.repeat(64) });
  });

  it('signs again only the chunks whose plaintext changed', async () => {
    const signer = accountSigner(2);
    const first = sampleSnapshot(1, { facts: 200, factBytes: 500, now: NOW });
    const one = buildSnapshot({ signer, snapshot: first, generation: 1, daemon: 'daemon-a-0001', final: false, now: NOW, createdAt: NOW / 1000 });
    await publishAll(one.events);
    const second = structuredClone(first);
    second.facts.push({ text: 'the cat is called Miso', tags: [], createdAt: NOW + 5 });
    const two = buildSnapshot({ signer, snapshot: second, generation: 2, daemon: 'daemon-a-0001', final: false, now: NOW + 5, createdAt: NOW / 1000 + 1, previous: one.hashes });
    const factChunks = two.manifest.parts.find((p) => p.name === 'facts')!.chunks;
    // Only the last facts chunk (where the new fact landed) and the manifest.
    expect(two.changed).toBe(1);
    expect(two.events.map((e) => tagValue(e, 'd'))).toEqual([factChunks.at(-1)!.d, MANIFEST_D]);
    await publishAll(two.events);
    const read = await readSnapshot(reader(), signer, 'bot1');
    expect(read.snapshot.facts.at(-1)?.text).toBe('the cat is called Miso');
    expect(read.manifest.generation).toBe(2);
    // Nothing changed: nothing but a manifest to sign.
    expect(buildSnapshot({ signer, snapshot: second, generation: 3, daemon: 'd-00000001', final: true, now: NOW, createdAt: NOW / 1000 + 2, previous: two.hashes }).changed).toBe(0);
  });

  it("counts the manifest this home wrote before its last as its own (a stop's final snapshot still in the outbox)", async () => {
    const index = 77;
    const signer = accountSigner(index + 1);
    const snapshot = sampleSnapshot(index);
    const claim = buildSnapshot({ signer, snapshot, generation: 1, daemon: 'daemon-a-0001', final: false, now: NOW, createdAt: NOW / 1000 });
    await publishAll(claim.events);
    // The final snapshot was queued at the stop but never reached the relay.
    const final = buildSnapshot({ signer, snapshot, generation: 2, daemon: 'daemon-a-0001', final: true, now: NOW + 5, createdAt: NOW / 1000 + 1, previous: claim.hashes });
    const claimId = claim.events[claim.events.length - 1]!.id;
    const finalId = final.events[final.events.length - 1]!.id;
    const both = await remoteHeads(reader(), [{ signer, name: `bot${index}`, knownManifestIds: [finalId, claimId] }]);
    expect(both.get(signer.getPublicKey())).toEqual({ manifest: undefined, seq: undefined, known: true });
    // Knowing only the last write, the claim is opened (and is this home's own, generation 1).
    const last = await remoteHeads(reader(), [{ signer, name: `bot${index}`, knownManifestIds: [finalId] }]);
    expect(last.get(signer.getPublicKey())?.known).toBeUndefined();
    expect(last.get(signer.getPublicKey())?.manifest).toMatchObject({ daemon: 'daemon-a-0001', generation: 1, final: false });
  });

  it('reports forged, foreign, damaged, replayed, missing and unknown-version events by agent and part', async () => {
    // Agent 2: chunked facts, published; each case alters one event and puts it back.
    const index = 2;
    const signer = accountSigner(index + 1);
    let createdAt = NOW / 1000;
    const publishFresh = async (snapshot = sampleSnapshot(index, { facts: 120, factBytes: 500, now: NOW })) => {
      createdAt += 10;
      const built = buildSnapshot({ signer, snapshot, generation: createdAt, daemon: 'daemon-a-0001', final: false, now: NOW, createdAt });
      await publishAll(built.events);
      return built;
    };
    const eventOf = (built: ReturnType<typeof buildSnapshot>, d: string) => built.events.find((e) => tagValue(e, 'd') === d)!;

    // A forged chunk: its content altered after signing (id and signature no longer match).
    let built = await publishFresh();
    const chunk1 = eventOf(built, chunkD('facts', 1));
    expect(relay.relay.store.replaceRawForTest({ ...chunk1, content: chunk1.content.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) })).toBe(true);
    await expectSnapshotError(index, 'SNAPSHOT_BAD_SIGNATURE', /^facts\/1$/);

    // A manifest that claims another author.
    built = await publishFresh();
    const stranger = accountSigner(90);
    const manifest = eventOf(built, MANIFEST_D);
    expect(relay.relay.store.replaceRawForTest({ ...manifest, pubkey: stranger.getPublicKey() })).toBe(true);
    await expectSnapshotError(index, 'SNAPSHOT_WRONG_AUTHOR', /^manifest$/);

    // Damaged ciphertext under a valid signature (the writer's bytes were corrupted before signing).
    built = await publishFresh();
    const good = eventOf(built, chunkD('state', 0));
    const bytes = Buffer.from(good.content, 'base64');
    bytes[40] = bytes[40]! ^ 0xff;
    const damaged = signer.signEvent({ kind: good.kind, created_at: createdAt + 1, tags: good.tags, content: bytes.toString('base64') });
    await publishAll([damaged]);
    await expectSnapshotError(index, 'SNAPSHOT_TAMPERED', /^state\/0$/);

    // An older chunk replayed where the manifest expects a newer one.
    built = await publishFresh();
    const changed = sampleSnapshot(index, { facts: 121, factBytes: 500, now: NOW });
    createdAt += 10;
    const newer = buildSnapshot({ signer, snapshot: changed, generation: createdAt, daemon: 'daemon-a-0001', final: false, now: NOW, createdAt, previous: built.hashes });
    const lastFacts = newer.manifest.parts.find((p) => p.name === 'facts')!.chunks.at(-1)!.d;
    await publishAll(newer.events.filter((e) => tagValue(e, 'd') !== lastFacts));
    const old = eventOf(built, lastFacts) ?? (await pool.fetch([{ kinds: [SNAPSHOT_KIND], authors: [signer.getPublicKey()], '#d': [lastFacts] }]))[0];
    expect(old).toBeDefined();
    await expectSnapshotError(index, 'SNAPSHOT_TAMPERED', /^facts\/\d+$/);

    // A chunk missing from every relay.
    built = await publishFresh();
    expect(relay.relay.store.deleteById(eventOf(built, chunkD('facts', 2)).id)).toBe(true);
    const missing = await expectSnapshotError(index, 'SNAPSHOT_CHUNK_MISSING', /^facts\/2$/);
    expect(missing.message).toMatch(/chunk 3 of \d+/);

    // A format version from the future.
    built = await publishFresh();
    createdAt += 10;
    const future = signer.signEvent({ kind: SNAPSHOT_KIND, created_at: createdAt, tags: [['d', MANIFEST_D], ['version', '2']], content: signer.nip44.encrypt(signer.getPublicKey(), '{"version":2}') });
    await publishAll([future]);
    await expectSnapshotError(index, 'SNAPSHOT_VERSION_UNKNOWN', /^manifest$/);

    // A part that decrypts but is not what the format says.
    createdAt += 10;
    const bad = sampleSnapshot(index, { now: NOW }) as unknown as Record<string, unknown>;
    (bad.kv as unknown[]).push({ key: '', value: 1 });
    const invalid = buildSnapshot({ signer, snapshot: bad as never, generation: createdAt, daemon: 'daemon-a-0001', final: false, now: NOW, createdAt });
    await publishAll(invalid.events);
    const e = await expectSnapshotError(index, 'SNAPSHOT_INVALID', /^kv$/);
    expect(e.message).toMatch(/kv/);
  });

  it('finds the registry, or scans accounts for bot profiles naming the owner (gap limit 20)', async () => {
    const owner = accountSigner(0);
    expect(await readRegistry(reader(), owner)).toBeUndefined();
    const bot = (account: number, of = owner.getPublicKey()) => accountSigner(account).signEvent(createAgentMetadata({ name: `a${account}` }, of, NOW / 1000));
    // Bot profiles at accounts 7, 22 and 42: each within 20 accounts of the one before.
    await publishAll([bot(7), bot(22), bot(42)]);
    // A bot naming someone else and a profile that is no bot do not count.
    await publishAll([bot(8, accountSigner(90).getPublicKey())]);
    await publishAll([finalizeEvent({ kind: 0, created_at: NOW / 1000, tags: [['p', owner.getPublicKey()]], content: '{"name":"human"}' }, accountSecret(9))]);
    // Account 63 is 21 past 42: beyond the gap limit.
    await publishAll([bot(63)]);
    const scan = () => scanAgentAccounts(reader(), { ownerPubkey: owner.getPublicKey(), pubkeyOf: (a) => accountSigner(a).getPublicKey() });
    expect((await scan()).map((f) => f.account)).toEqual([7, 22, 42]);
    await publishAll([bot(62)]);
    expect((await scan()).map((f) => f.account)).toEqual([7, 22, 42, 62, 63]);

    const registry = { version: 1 as const, updatedAt: NOW, agents: [{ name: 'a7', index: 6, account: 7, pubkey: accountSigner(7).getPublicKey(), relays: [relay.url] }] };
    await publishAll([selfEncrypted(owner, REGISTRY_D, JSON.stringify(registry), NOW / 1000)]);
    expect(await readRegistry(reader(), owner)).toEqual(registry);
    // A stale registry (a7 only): the accounts past it are still scanned, so no agent is missed.
    const found = await findAgents(reader(), owner, (a) => accountSigner(a).getPublicKey());
    expect(found.source).toBe('registry');
    expect(found.agents.map((a) => [a.name, a.account])).toEqual([['a7', 7], ['account 22', 22], ['account 42', 42], ['account 62', 62], ['account 63', 63]]);
  });

  it('chunks a registry of 450 agents (past one NIP-44 payload) and finds every agent from it; a change sends its chunk and the head', async () => {
    const owner = accountSigner(0);
    const keys = new Map<number, string>();
    const pubkeyOf = (account: number): string => {
      let key = keys.get(account);
      if (key === undefined) keys.set(account, (key = accountSigner(account).getPublicKey()));
      return key;
    };
    const entry = (index: number) => ({ name: `agent-${index}`, index, account: index + 1, pubkey: pubkeyOf(index + 1), relays: [relay.url, 'wss://relay.example.com/with/a/longer/path'] });
    const agents = Array.from({ length: 450 }, (_, i) => entry(i));
    const dir = mkdtempSync(join(tmpdir(), 'registry-chunks-'));
    const storage = await openStorage(sqliteUrl(join(dir, 'agents.db')));
    try {
      const queued: NostrEvent[][] = [];
      let now = NOW + 3_600_000;
      const publisher = new SnapshotPublisher({
        storage,
        signerFor: () => owner,
        owner,
        state: new SnapshotStateFile(join(dir, 'snapshots.json')),
        enqueue: async (events) => void queued.push(events.map((e) => e.event)),
        secrets: [],
        now: () => now,
      });
      expect(JSON.stringify(agents).length).toBeGreaterThan(MAX_PLAINTEXT_BYTES);
      expect(await publisher.writeRegistry(agents)).toBe(true);
      const first = queued[0]!;
      expect(first.length).toBeGreaterThan(2);
      expect(first.map((e) => tagValue(e, 'd'))).toEqual([...first.slice(0, -1).map((_, i) => `${REGISTRY_D}/${i}`), REGISTRY_D]);
      for (const event of first) expect(JSON.stringify(event).length).toBeLessThan(64 * 1024);
      await publishAll(first);
      const read = await readRegistry(reader(), owner);
      expect(read?.version).toBe(2);
      expect(read?.agents).toEqual(agents);
      const found = await findAgents(reader(), owner, pubkeyOf);
      expect(found.source).toBe('registry');
      expect(found.agents.map((a) => a.name)).toEqual(agents.map((a) => a.name));

      // One more agent: only the last chunk changed, so it and the head go out.
      now += 5_000;
      expect(await publisher.writeRegistry([...agents, entry(450)])).toBe(true);
      expect(queued[1]!.map((e) => tagValue(e, 'd'))).toEqual([`${REGISTRY_D}/${first.length - 2}`, REGISTRY_D]);
      await publishAll(queued[1]!);
      expect((await readRegistry(reader(), owner))?.agents).toHaveLength(451);
      expect(await publisher.writeRegistry([...agents, entry(450)])).toBe(false);

      // A chunk gone from every relay, then a chunk replaced by a newer one that is validly signed and
      // decrypts but is not what the head lists: each is an error naming that chunk, never a shorter list.
      const readError = () => readRegistry(reader(), owner).then(() => undefined, (e: unknown) => e as SnapshotError);
      const second = first.find((e) => tagValue(e, 'd') === registryChunkD(1))!;
      expect(relay.relay.store.deleteById(second.id)).toBe(true);
      const missing = await readError();
      expect(missing).toBeInstanceOf(SnapshotError);
      expect([missing?.code, missing?.part]).toEqual(['SNAPSHOT_CHUNK_MISSING', 'registry/1']);
      await publishAll([selfEncrypted(owner, registryChunkD(0), '[]', Math.floor(now / 1000) + 10)]);
      const tampered = await readError();
      expect([tampered?.code, tampered?.part]).toEqual(['SNAPSHOT_TAMPERED', 'registry/0']);
      expect(tampered?.message).toMatch(/hash its head lists/);
    } finally {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
