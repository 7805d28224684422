import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { policies } from '../../relay-dev/index.js';
import { finalizeEvent } from '../../src/protocol/crypto.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { createDmRelayList } from '../../src/protocol/nip17.js';
import { OutboxPublisher } from '../../src/relay/outbox-publisher.js';
import { OwnEchoes } from '../../src/relay/own-echoes.js';
import { CachedRelayLists } from '../../src/relay/relay-lists.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import type { OutboxReport } from '../../src/relay/types.js';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';
import { openDatabase, type Db } from '../../src/storage/sqlite/database.js';
import { enqueueOutbox, getOutboxByEventId } from '../../src/storage/sqlite/outbox-store.js';
import { RELAY_MODES } from '../helpers/relay-modes.js';
import { Fixture, signerOf, waitFor } from './helpers.js';

const fx = new Fixture();
afterEach(() => fx.cleanup());

const agent = signerOf(0x31);
const bob = signerOf(0x32);

function setup(db: Db, own: string[], discovery: string[] = own, ownEchoes?: OwnEchoes) {
  const pool = new WsRelayPool({ backoff: { initialMs: 100, maxMs: 1000, jitter: 0 }, pingIntervalMs: 0 });
  pool.addAuthSigner(agent);
  const reports: OutboxReport[] = [];
  const lists = new CachedRelayLists({ pool, discoveryRelays: () => discovery, timeoutMs: 3000 });
  const publisher = new OutboxPublisher({ storage: new SqliteAgentStorage(db), pool, lists, ownRelays: () => own, backoff: { initialMs: 50, maxMs: 200, jitter: 0 }, onReport: (r) => reports.push(r), ...(ownEchoes ? { ownEchoes } : {}) });
  fx.onClose(async () => {
    await publisher.stop();
    await pool.close();
  });
  return { pool, publisher, reports };
}

function note(text: string) {
  return finalizeEvent({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [], content: text }, hexToBytes('31'.repeat(32)));
}

describe('OutboxPublisher against relay-dev', () => {
  it("notes the agent's own copy of a gift wrap (not the recipient's) before publishing it", async () => {
    const relay = await fx.relay();
    const db = openDatabase(':memory:');
    fx.onClose(() => db.close());
    const echoes = new OwnEchoes();
    const { pool, publisher } = setup(db, [relay.url], [relay.url], echoes);
    await pool.addRelay(relay.url).waitConnected({ timeoutMs: 5000 });
    const now = Date.now();
    const out = buildDirectMessage(agent, bob.getPublicKey(), 'hello bob');
    for (const o of out) enqueueOutbox(db, { agentPubkey: agent.getPublicKey(), event: o.event, target: o.target, now, deadlineAt: now + 60_000 });
    const reports = await publisher.runOnce();
    expect(reports.map((r) => r.type)).toEqual(['delivered', 'delivered']);
    const own = out.find((o) => o.target.type === 'own')!.event;
    const toBob = out.find((o) => o.target.type === 'dm')!.event;
    expect([echoes.has(own.id), echoes.has(toBob.id)]).toEqual([true, false]);
  });

  it('reports a refusing relay and a down one truthfully, retries, survives a restart, then delivers', async () => {
    const dir = fx.tempDir();
    const refusing = await fx.relay({ configure: (r) => r.rejectEvent.push(policies.allowPubkeys([bob.getPublicKey()])) });
    const laterRelayDb = join(dir, 'later.db');
    const later = await fx.relay({ dbFile: laterRelayDb });
    const laterPort = later.port;
    const laterUrl = later.url;
    await later.close();
    const file = join(dir, 'agent.db');
    const db1 = openDatabase(file);
    const event = note('durable hello');
    const now = Date.now();
    enqueueOutbox(db1, { agentPubkey: agent.getPublicKey(), event, target: { type: 'own' }, now, deadlineAt: now + 600_000 });
    const first = setup(db1, [refusing.url, laterUrl], []);
    await waitFor('refusing relay connected', async () => (await first.pool.addRelay(refusing.url).waitConnected({ timeoutMs: 5000 })) || undefined);
    const [report] = await first.publisher.runOnce();
    expect(report).toMatchObject({ type: 'retry', eventId: event.id });
    const row = getOutboxByEventId(db1, event.id)!;
    expect(row.status).toBe('pending');
    expect(row.accepted).toEqual([]);
    expect(row.results.find((r) => r.relay === refusing.url)?.message).toMatch(/^blocked:/);
    expect(row.results.find((r) => r.relay === laterUrl)).toMatchObject({ ok: false, message: 'error: relay not connected' });
    // Process "restart": everything closed, a new publisher on the same file.
    await first.publisher.stop();
    await first.pool.close();
    db1.close();
    await fx.relay({ dbFile: laterRelayDb, port: laterPort });
    const db2 = openDatabase(file);
    fx.onClose(() => db2.close());
    const second = setup(db2, [refusing.url, laterUrl], []);
    second.publisher.start();
    await waitFor('delivered after restart', () => getOutboxByEventId(db2, event.id)?.status === 'delivered', 30_000);
    const done = getOutboxByEventId(db2, event.id)!;
    expect(done.accepted).toEqual([laterUrl]);
    expect(second.reports.at(-1)).toMatchObject({ type: 'delivered', eventId: event.id, accepted: [laterUrl] });
    // The refusing relay is not asked again once it said `blocked:`.
    expect(refusing.relay.stats.rejected).toBe(1);
    const stored = await second.pool.fetch([{ ids: [event.id] }], { relays: [laterUrl] });
    expect(stored.map((e) => e.id)).toEqual([event.id]);
  });

  it('gives up visibly: every relay refusing fails at once; a deadline passing fails with the last answers', async () => {
    const refusing = await fx.relay({ configure: (r) => r.rejectEvent.push(policies.allowKinds([0])) });
    const gone = await fx.relay();
    const goneUrl = gone.url;
    await gone.close();
    const db = openDatabase(':memory:');
    fx.onClose(() => db.close());
    const refused = note('nobody wants this');
    const late = note('too late');
    const now = Date.now();
    enqueueOutbox(db, { agentPubkey: agent.getPublicKey(), event: refused, target: { type: 'relays', relays: [refusing.url] }, now, deadlineAt: now + 600_000 });
    enqueueOutbox(db, { agentPubkey: agent.getPublicKey(), event: late, target: { type: 'relays', relays: [goneUrl] }, now, deadlineAt: now - 1 });
    const { pool, publisher, reports } = setup(db, []);
    await pool.addRelay(refusing.url).waitConnected();
    await publisher.runOnce();
    expect(getOutboxByEventId(db, refused.id)).toMatchObject({ status: 'failed' });
    expect(getOutboxByEventId(db, refused.id)!.lastError).toMatch(/every relay refused.*blocked: kind 1/);
    expect(getOutboxByEventId(db, late.id)).toMatchObject({ status: 'failed' });
    expect(getOutboxByEventId(db, late.id)!.lastError).toMatch(/before the deadline.*not connected/);
    expect(reports.map((r) => r.type).sort()).toEqual(['failed', 'failed']);
  });

  it("sends a DM to the recipient's 10050 relays and the agent's own, the self-copy to the own relays", async () => {
    const own = await fx.relay();
    const inbox = await fx.relay();
    const db = openDatabase(':memory:');
    fx.onClose(() => db.close());
    const { pool, publisher } = setup(db, [own.url]);
    const list = bob.signEvent(createDmRelayList([inbox.url], Math.floor(Date.now() / 1000)));
    expect((await pool.publish(list, { relays: [own.url] }))[0]).toMatchObject({ ok: true });
    const now = Date.now();
    const out = buildDirectMessage(agent, bob.getPublicKey(), 'hi bob');
    for (const o of out) enqueueOutbox(db, { agentPubkey: agent.getPublicKey(), event: o.event, target: o.target, now, deadlineAt: now + 60_000 });
    await publisher.runOnce();
    expect(getOutboxByEventId(db, out[0]!.event.id)!.accepted.sort()).toEqual([inbox.url, own.url].sort());
    expect(getOutboxByEventId(db, out[1]!.event.id)!.accepted).toEqual([own.url]);
  });
});

describe('OutboxPublisher order', () => {
  it('publishes conversation rows first and the rest (self-copy, trajectory-like own rows) only once those are answered', async () => {
    const arrivals: Array<{ id: string; dmStored: boolean }> = [];
    const holder: { dmId?: string; store?: { has(id: string): boolean } } = {};
    const relay = await fx.relay({
      configure: (r) =>
        r.rejectEvent.push((event) => {
          arrivals.push({ id: event.id, dmStored: holder.dmId !== undefined && (holder.store?.has(holder.dmId) ?? false) });
          return undefined;
        }),
    });
    holder.store = relay.relay.store;
    const db = openDatabase(':memory:');
    fx.onClose(() => db.close());
    const { publisher } = setup(db, [relay.url]);
    const now = Date.now();
    const background = note('a trajectory stand-in, queued first');
    const out = buildDirectMessage(agent, bob.getPublicKey(), 'hi bob');
    const dm = out.find((o) => o.target.type === 'dm')!;
    const copy = out.find((o) => o.target.type === 'own')!;
    holder.dmId = dm.event.id;
    // Queued in the worst order: the background rows before the DM.
    enqueueOutbox(db, { agentPubkey: agent.getPublicKey(), event: background, target: { type: 'own' }, now, deadlineAt: now + 60_000 });
    enqueueOutbox(db, { agentPubkey: agent.getPublicKey(), event: copy.event, target: copy.target, now, deadlineAt: now + 60_000 });
    enqueueOutbox(db, { agentPubkey: agent.getPublicKey(), event: dm.event, target: dm.target, now, deadlineAt: now + 60_000 });
    const reports = await publisher.runOnce();
    // Reports keep the rows' order; every row is delivered in this one round.
    expect(reports.map((r) => [r.eventId, r.type])).toEqual([background.id, copy.event.id, dm.event.id].map((id) => [id, 'delivered']));
    expect(arrivals[0]).toEqual({ id: dm.event.id, dmStored: false });
    expect(arrivals.slice(1).map((a) => a.id).sort()).toEqual([background.id, copy.event.id].sort());
    // The background rows reached the relay only after it had stored (and answered) the DM.
    expect(arrivals.slice(1).every((a) => a.dmStored)).toBe(true);
  });
});

describe.each(RELAY_MODES)('OutboxPublisher against relay-dev ($name)', ({ options }) => {
  it('delivers a DM and its self-copy on the first round, authenticating where the relay wants it', async () => {
    const relay = await fx.relay(options);
    const db = openDatabase(':memory:');
    fx.onClose(() => db.close());
    const { publisher } = setup(db, [relay.url]);
    const now = Date.now();
    const out = buildDirectMessage(agent, bob.getPublicKey(), 'hi bob');
    for (const o of out) enqueueOutbox(db, { agentPubkey: agent.getPublicKey(), event: o.event, target: o.target, now, deadlineAt: now + 60_000 });
    const reports = await publisher.runOnce();
    expect(reports.map((r) => r.type), JSON.stringify(reports.map((r) => r.results))).toEqual(['delivered', 'delivered']);
    for (const o of out) expect(relay.relay.store.has(o.event.id)).toBe(true);
  });
});
