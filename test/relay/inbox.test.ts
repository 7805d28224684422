import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { finalizeEvent } from '../../src/protocol/crypto.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { OwnEchoes } from '../../src/relay/own-echoes.js';
import { InboxSubscriptions } from '../../src/relay/subscription-manager.js';
import type { InboundMessage } from '../../src/relay/types.js';
import { createWrap, createSeal } from '../../src/protocol/nip59.js';
import { createChatRumor } from '../../src/protocol/nip17.js';
import { getCursor } from '../../src/storage/sqlite/cursor-store.js';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';
import { openDatabase, type Db } from '../../src/storage/sqlite/database.js';
import type { Signer } from '../../src/signer/types.js';
import { ArrayLogger } from '../../src/util/logger.js';
import { RELAY_MODES } from '../helpers/relay-modes.js';
import { Fixture, signerOf, waitFor } from './helpers.js';

const fx = new Fixture();
afterEach(() => fx.cleanup());

const agent = signerOf(0x21);
const agent2 = signerOf(0x22);
const alice = signerOf(0x23);
const mallory = signerOf(0x24);

function newPool(relays: string[] = [], initialMs = 100, signers: Signer[] = []): WsRelayPool {
  const p = new WsRelayPool({ relays, backoff: { initialMs, maxMs: 2000, jitter: 0 }, pingIntervalMs: 0 });
  for (const s of signers) p.addAuthSigner(s);
  fx.onClose(() => p.close());
  return p;
}

/** A sender's pool: it answers AUTH as alice, as a phone client would (some relays take nothing before AUTH). */
const senderPool = (): WsRelayPool => newPool([], 100, [alice]);

function openDb(file: string): Db {
  const db = openDatabase(file);
  fx.onClose(() => db.close());
  return db;
}

async function startInbox(db: Db, relays: string[], agents = [agent], initialMs = 100, ownEchoes?: OwnEchoes) {
  const got: InboundMessage[] = [];
  const pool = newPool([], initialMs);
  const inbox = new InboxSubscriptions({ pool, storage: new SqliteAgentStorage(db), relays, sink: async (m) => void got.push(m), checkpointIntervalMs: 100, relayLimits: async () => undefined, ...(ownEchoes ? { ownEchoes } : {}) });
  for (const a of agents) inbox.addAgent(a);
  await inbox.start();
  fx.onClose(() => inbox.stop());
  return { got, pool, inbox };
}

describe.each(RELAY_MODES)('inbox subscriptions against relay-dev ($name)', ({ options }) => {
  it('receives NIP-17 and NIP-04 DMs through either of two relays, exactly once when both deliver them', async () => {
    const r1 = await fx.relay(options);
    const r2 = await fx.relay(options);
    const db = openDb(join(fx.tempDir(), 'a.db'));
    const { got, inbox } = await startInbox(db, [r1.url, r2.url], [agent, agent2]);
    const sender = senderPool();
    const [viaOne] = buildDirectMessage(alice, agent.getPublicKey(), 'only on r2');
    const [viaBoth] = buildDirectMessage(alice, agent2.getPublicKey(), 'on both');
    const now = Math.floor(Date.now() / 1000);
    const legacy = alice.signEvent({ kind: 4, created_at: now, tags: [['p', agent2.getPublicKey()]], content: alice.nip04.encrypt(agent2.getPublicKey(), 'nip-04 on both') });
    expect((await sender.publish(viaOne!.event, { relays: [r2.url] }))[0]).toMatchObject({ ok: true });
    for (const event of [viaBoth!.event, legacy]) {
      const both = await sender.publish(event, { relays: [r1.url, r2.url] });
      expect(both.every((r) => r.ok), JSON.stringify(both)).toBe(true);
    }
    await waitFor('all three messages', () => got.length >= 3);
    await waitFor('the duplicates seen on the second relay', () => inbox.counters.duplicates >= 2);
    expect(got.map((m) => `${m.protocol} ${m.text}`).sort()).toEqual(['nip04 nip-04 on both', 'nip17 on both', 'nip17 only on r2']);
    expect(got.find((m) => m.text === 'on both')?.agentPubkey).toBe(agent2.getPublicKey());
    expect(inbox.counters.delivered).toBe(3);
  });

  it('reconnects to a restarted relay and receives a DM sent to it while the agent was away', async () => {
    const dir = fx.tempDir();
    const relayDb = join(dir, 'relay.db');
    let relay = await fx.relay({ ...options, dbFile: relayDb });
    const port = relay.port;
    const db = openDb(join(dir, 'agent.db'));
    const { got, pool } = await startInbox(db, [relay.url], [agent], 3000);
    await waitFor('cursor saved after EOSE', () => getCursor(db, relay.url) !== undefined);
    const [before] = buildDirectMessage(alice, agent.getPublicKey(), 'before');
    const sender = senderPool();
    await sender.publish(before!.event, { relays: [relay.url] });
    await waitFor('first DM', () => got.length === 1);
    await relay.close();
    await waitFor('agent sees the relay down', () => pool.status()[0]?.state !== 'connected');
    relay = await fx.relay({ ...options, dbFile: relayDb, port });
    const [during] = buildDirectMessage(alice, agent.getPublicKey(), 'while you were away');
    expect(await sender.connection(relay.url)!.waitConnected({ timeoutMs: 10_000 })).toBe(true);
    const ok = await sender.publish(during!.event, { relays: [relay.url] });
    // The agent's pool is still backing off: the DM is stored on the relay before the agent returns.
    const stateAtSend = pool.status()[0]?.state;
    expect(ok[0]).toMatchObject({ ok: true });
    await waitFor('the DM sent while away', () => got.some((m) => m.text === 'while you were away'), 30_000);
    expect(stateAtSend).not.toBe('connected');
    expect(got.map((m) => m.text)).toEqual(['before', 'while you were away']);
  });

  it('catches up a gift wrap backdated 36 hours that arrived while the receiver was offline', async () => {
    const dir = fx.tempDir();
    const relay = await fx.relay({ ...options, dbFile: join(dir, 'relay.db') });
    const file = join(dir, 'agent.db');
    const firstDb = openDatabase(file);
    const first = await startInbox(firstDb, [relay.url]);
    await waitFor('cursor saved', () => getCursor(firstDb, relay.url) !== undefined);
    await first.inbox.stop();
    await first.pool.close();
    firstDb.close();
    const now = Math.floor(Date.now() / 1000);
    const rumor = createChatRumor(alice.getPublicKey(), { recipients: [agent.getPublicKey()], content: 'from the past', createdAt: now });
    const seal = createSeal(rumor, alice, agent.getPublicKey(), now - 36 * 3600);
    const wrap = createWrap(seal, agent.getPublicKey(), hexToBytes('5a'.repeat(32)), now - 36 * 3600);
    const sender = senderPool();
    expect((await sender.publish(wrap, { relays: [relay.url] }))[0]).toMatchObject({ ok: true });
    const db = openDb(file);
    const cursor = getCursor(db, relay.url)!;
    expect(wrap.created_at).toBeLessThan(cursor - 24 * 3600);
    const second = await startInbox(db, [relay.url]);
    await waitFor('the backdated wrap', () => second.got.length === 1);
    expect(second.got[0]).toMatchObject({ text: 'from the past', eventId: wrap.id, createdAt: now });
  });

  it('drops and counts forged wraps sent through the relay; the sink never sees them', async () => {
    const relay = await fx.relay(options);
    const db = openDb(join(fx.tempDir(), 'a.db'));
    const { got, inbox } = await startInbox(db, [relay.url]);
    const now = Math.floor(Date.now() / 1000);
    const rumor = createChatRumor(alice.getPublicKey(), { recipients: [agent.getPublicKey()], content: 'pay mallory', createdAt: now });
    const forgedSeal = mallory.signEvent({ kind: 13, created_at: now, tags: [], content: mallory.nip44.encrypt(agent.getPublicKey(), JSON.stringify(rumor)) });
    const goodSeal = createSeal(rumor, alice, agent.getPublicKey(), now);
    // The third is p-tagged to the agent but its content is encrypted to someone else.
    const elsewhere = createWrap(goodSeal, agent2.getPublicKey(), hexToBytes('63'.repeat(32)), now);
    const forged = [
      createWrap(forgedSeal, agent.getPublicKey(), hexToBytes('61'.repeat(32)), now),
      createWrap({ ...goodSeal, sig: 'f'.repeat(128) }, agent.getPublicKey(), hexToBytes('62'.repeat(32)), now),
      finalizeEvent({ kind: 1059, created_at: now, tags: [['p', agent.getPublicKey()]], content: elsewhere.content }, hexToBytes('63'.repeat(32))),
    ];
    const sender = senderPool();
    for (const w of forged) expect((await sender.publish(w, { relays: [relay.url] }))[0]).toMatchObject({ ok: true });
    await waitFor('three rejections', () => Object.values(inbox.counters.rejected).reduce((a, b) => a + b, 0) === 3);
    expect(inbox.counters.rejected).toMatchObject({ 'seal-rumor-mismatch': 1, 'bad-seal-signature': 1, 'decrypt-failed': 1 });
    expect(got).toEqual([]);
  });

  it('adds and removes agents without dropping the others', async () => {
    const relay = await fx.relay(options);
    const db = openDb(join(fx.tempDir(), 'a.db'));
    const { got, inbox } = await startInbox(db, [relay.url]);
    const sender = senderPool();
    inbox.addAgent(agent2);
    for (const to of [agent, agent2]) {
      const [w] = buildDirectMessage(alice, to.getPublicKey(), `hi ${to === agent ? 'one' : 'two'}`);
      await sender.publish(w!.event, { relays: [relay.url] });
    }
    await waitFor('both agents got theirs', () => got.length === 2);
    inbox.removeAgent(agent2.getPublicKey());
    expect(inbox.agents()).toEqual([agent.getPublicKey()]);
    const [w1] = buildDirectMessage(alice, agent.getPublicKey(), 'still here');
    await sender.publish(w1!.event, { relays: [relay.url] });
    await waitFor('agent one still subscribed', () => got.some((m) => m.text === 'still here'));
    expect(new Set(got.map((m) => m.agentPubkey)).size).toBe(2);
  });

  it("gives an agent's catch-up cursor once every relay has caught up with its key, and none for a key not hosted", async () => {
    const [r1, r2] = [await fx.relay(options), await fx.relay(options)];
    const db = openDb(join(fx.tempDir(), 'a.db'));
    const { inbox } = await startInbox(db, [r1.url, r2.url]);
    const me = agent.getPublicKey();
    await waitFor('agent one caught up on both relays', () => inbox.cursorOf(me) !== undefined);
    const first = inbox.cursorOf(me)!;
    expect(first).toBeGreaterThan(1_700_000_000);
    // A key added later has no cursor until a checkpoint of each relay covers it; the others keep theirs.
    inbox.addAgent(agent2, { since: 1_700_000_000 });
    expect(inbox.cursorOf(agent2.getPublicKey())).toBeUndefined();
    expect(inbox.cursorOf(me)).toBe(first);
    await waitFor('agent two caught up on both relays', () => inbox.cursorOf(agent2.getPublicKey()) !== undefined);
    expect(inbox.cursorOf(agent2.getPublicKey())).toBeGreaterThanOrEqual(first);
    expect(inbox.cursorOf(me)).toBeGreaterThanOrEqual(first);
    // Gone: no cursor; back: none until covered again.
    inbox.removeAgent(agent2.getPublicKey());
    expect(inbox.cursorOf(agent2.getPublicKey())).toBeUndefined();
    inbox.addAgent(agent2);
    expect(inbox.cursorOf(agent2.getPublicKey())).toBeUndefined();
    await waitFor('agent two covered again', () => inbox.cursorOf(agent2.getPublicKey()) !== undefined);
    expect(inbox.cursorOf(alice.getPublicKey())).toBeUndefined();
  });
});

describe('inbox subscriptions and own copies', () => {
  it("takes an agent's own copy back unverified (its id is checked) and settles it unopened; everything else is verified", async () => {
    // No AUTH: the subscription's id on the relay stays the first one (what this test answers on).
    const relay = await fx.relay({ auth: 'off' });
    const db = openDb(join(fx.tempDir(), 'a.db'));
    const echoes = new OwnEchoes();
    const { got, pool, inbox } = await startInbox(db, [relay.url], [agent], 100, echoes);
    const [toAlice, own] = buildDirectMessage(agent, alice.getPublicKey(), 'said by the agent');
    expect(own!.target.type).toBe('own');
    echoes.noteOwnCopy(own!.event);
    const badSig = <T extends { sig: string }>(e: T): T => ({ ...e, sig: (e.sig[0] === '0' ? '1' : '0') + e.sig.slice(1) });
    const [fromAlice] = buildDirectMessage(alice, agent.getPublicKey(), 'to the agent');
    // The live gift-wrap REQ (not a catch-up page): what the relay would hand the echo to.
    const wrapSub = (c: (typeof relay.relay.connections extends Set<infer C> ? C : never)) => [...c.subs.values()].find((sub) => !sub.id.includes('page') && sub.filters.some((f) => f.kinds?.includes(1059)));
    const conn = await waitFor('the gift-wrap subscription open on the relay', () => [...relay.relay.connections].find((c) => wrapSub(c) !== undefined));
    const subId = wrapSub(conn!)!.id;
    // The own copy with its signature spoiled: its id still matches its content, so it is taken and settled as the agent's own.
    conn!.send(JSON.stringify(['EVENT', subId, badSig(own!.event)]));
    // The same spoiled signature on a wrap that is not an own copy: dropped by the connection.
    conn!.send(JSON.stringify(['EVENT', subId, badSig(fromAlice!.event)]));
    // An own copy whose content does not hash to its id: dropped too.
    conn!.send(JSON.stringify(['EVENT', subId, { ...own!.event, content: own!.event.content.slice(0, -4) + 'AAAA' }]));
    conn!.send(JSON.stringify(['EVENT', subId, fromAlice!.event]));
    await waitFor('the DM delivered', () => got.length === 1);
    await waitFor('the own copy settled', () => inbox.counters.rejected['own-message'] === 1);
    expect(got.map((m) => m.text)).toEqual(['to the agent']);
    expect(pool.counters.invalidSignature).toBe(2);
    expect(toAlice!.target.type).toBe('dm');
  });
});

describe('inbox subscriptions refused by the relay', () => {
  it('asks again after a transient refusal; a final refusal stops holding the cursor back, with a warning', async () => {
    let refusals = 1;
    const flaky = await fx.relay({ configure: (r) => r.rejectReq.push(() => (refusals-- > 0 ? 'rate-limited: slow down' : undefined)) });
    const closed = await fx.relay({ configure: (r) => r.rejectReq.push((filters) => (filters.some((f) => f.kinds?.includes(1059)) ? 'restricted: no DMs here' : undefined)) });
    const db = openDb(join(fx.tempDir(), 'a.db'));
    const got: InboundMessage[] = [];
    const logger = new ArrayLogger();
    const pool = newPool();
    const inbox = new InboxSubscriptions({ pool, storage: new SqliteAgentStorage(db), relays: [flaky.url, closed.url], sink: async (m) => void got.push(m), checkpointIntervalMs: 100, relayLimits: async () => undefined, logger });
    inbox.addAgent(agent);
    await inbox.start();
    fx.onClose(() => inbox.stop());
    const [dm] = buildDirectMessage(alice, agent.getPublicKey(), 'after the refusal');
    expect((await senderPool().publish(dm!.event, { relays: [flaky.url] }))[0]).toMatchObject({ ok: true });
    await waitFor('the DM once the REQ was accepted', () => got.some((m) => m.text === 'after the refusal'));
    await waitFor("the refusing relay's cursor saved anyway", () => getCursor(db, closed.url) !== undefined);
    expect(logger.records.some((r) => r.level === 'warn' && r.relay === closed.url && /refuses an inbox subscription/.test(r.msg))).toBe(true);
  });
});

describe("an agent's own copies echoed back", () => {
  it('settles a noted own copy unopened without checking its signature; any other wrap is still checked', async () => {
    const relay = await fx.relay();
    const db = openDb(join(fx.tempDir(), 'a.db'));
    const got: InboundMessage[] = [];
    const pool = newPool();
    const ownEchoes = new OwnEchoes();
    const inbox = new InboxSubscriptions({ pool, storage: new SqliteAgentStorage(db), relays: [relay.url], sink: async (m) => void got.push(m), checkpointIntervalMs: 100, relayLimits: async () => undefined, ownEchoes });
    inbox.addAgent(agent);
    await inbox.start();
    fx.onClose(() => inbox.stop());
    // The agent's message to alice: the wrap to alice and the agent's own copy, which the outbox notes before publishing.
    const own = buildDirectMessage(agent, alice.getPublicKey(), 'said by the agent').find((o) => o.target.type === 'own')!.event;
    ownEchoes.noteOwnCopy(own);
    const [toAgent] = buildDirectMessage(alice, agent.getPublicKey(), 'from alice');
    const badSig = (e: typeof own) => ({ ...e, sig: (e.sig[0] === '0' ? '1' : '0') + e.sig.slice(1) });
    await waitFor('the inbox REQ open on the relay', () => [...relay.relay.connections].some((c) => [...c.subs.values()].some((s) => s.filters.some((f) => f.kinds?.includes(1059)))));
    const conn = [...relay.relay.connections].find((c) => [...c.subs.values()].some((s) => s.filters.some((f) => f.kinds?.includes(1059))))!;
    const subId = [...conn.subs.values()].find((s) => s.filters.some((f) => f.kinds?.includes(1059)))!.id;
    // A relay could hand back anything under the copy's id; with the id matching the content it is the copy this side signed.
    conn.send(JSON.stringify(['EVENT', subId, badSig(own)]));
    // Not an own copy: its signature is checked, and a bad one is dropped.
    conn.send(JSON.stringify(['EVENT', subId, badSig(toAgent!.event)]));
    await waitFor('the own copy settled', () => inbox.counters.rejected['own-message'] === 1);
    await waitFor('the forged wrap dropped', () => pool.counters.invalidSignature === 1);
    expect(got).toEqual([]);
  });
});
