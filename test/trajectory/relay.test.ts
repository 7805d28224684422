import { afterEach, describe, expect, it } from 'vitest';
import { startRelay, type RunningRelay } from '../../relay-dev/index.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { Kind } from '../../src/protocol/kinds.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import { fetchTrajectory, queryFromStream, type EventQuery } from '../../src/trajectory/fetch.js';
import { tickTemplate } from '../../src/trajectory/format.js';
import { nextSession, sessionAddress, sessionTemplate } from '../../src/trajectory/session.js';
import type { TrajectorySessionState } from '../../src/trajectory/types.js';
import { verifyTrajectory } from '../../src/trajectory/verify.js';
import { silentLogger } from '../../src/util/logger.js';
import { agent, echoRecord, keys, owner, runTicks, stranger } from './fixtures.js';
import { RawRelayClient } from './relay-client.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

/** A fresh relay-dev on a loopback port with a raw client connected. */
async function relayWithClient(): Promise<{ relay: RunningRelay; client: RawRelayClient }> {
  const relay = await startRelay({ port: 0, verifyThreads: 0, purgeIntervalMs: 0 });
  open.push(relay);
  const client = await RawRelayClient.connect(relay.url);
  open.push(client);
  return { relay, client };
}

/** Publishes in outbox order (each tick, then its session version); every event must be accepted. */
async function publishAll(client: RawRelayClient, events: NostrEvent[]): Promise<void> {
  for (const event of events) expect(await client.publish(event), `publish ${event.kind} ${event.id}`).toEqual([true, expect.any(String)]);
}

const twentyTicks = (): NostrEvent[] => {
  const { ticks, sessions } = runTicks(20);
  return ticks.flatMap((tick, i) => [tick, sessions[i]!]);
};
const verifyFrom = async (source: EventQuery, pageSize?: number) =>
  verifyTrajectory(await fetchTrajectory(source, { agentPubkey: keys.agent.publicKey, pageSize }), { agentPubkey: keys.agent.publicKey, owner }).report;
const tickWithSeq = (events: NostrEvent[], seq: number): NostrEvent =>
  events.find((e) => e.kind === Kind.TrajectoryTick && e.tags.some((t) => t[0] === 'seq' && t[1] === String(seq)))!;

describe('trajectories on relay-dev', () => {
  it('verifies 20 ticks of an echo agent fetched back from the relay, in pages and through the RelayPool', async () => {
    const { relay, client } = await relayWithClient();
    const events = twentyTicks();
    await publishAll(client, events);
    // The relay keeps every tick and only the newest session version.
    const stored = await client.query([{ authors: [keys.agent.publicKey] }]);
    expect(stored.filter((e) => e.kind === Kind.TrajectoryTick)).toHaveLength(20);
    expect(stored.filter((e) => e.kind === Kind.TrajectorySession)).toEqual([events[39]]);

    expect(await verifyFrom(client)).toMatchObject({ ok: true, ticks: 20, sessions: 1, unsealed: 0 });
    expect(await verifyFrom(client, 7)).toMatchObject({ ok: true, ticks: 20 });

    const pool = new WsRelayPool({ relays: [relay.url], logger: silentLogger });
    open.push(pool);
    expect(await verifyFrom(queryFromStream(pool))).toMatchObject({ ok: true, ticks: 20, headId: tickWithSeq(events, 20).id });
  });

  it('(a) fails when one tick event is deleted from the relay store', async () => {
    const { relay, client } = await relayWithClient();
    const events = twentyTicks();
    await publishAll(client, events);
    const gone = tickWithSeq(events, 12);
    expect(relay.relay.store.deleteById(gone.id)).toBe(true);
    const report = await verifyFrom(client);
    expect(report.ok).toBe(false);
    if (report.ok) return;
    expect(report.breaks[0]).toMatchObject({ kind: 'missing', seq: 12, eventId: gone.id });
    expect(report.breaks[0]!.message).toContain(`seq 12 is missing: tick seq 13 (${tickWithSeq(events, 13).id}) follows tick ${gone.id}`);
  });

  it('(b) fails naming a forged tick another key published into the agent’s session', async () => {
    const { client } = await relayWithClient();
    const events = twentyTicks();
    await publishAll(client, events);
    const record = { ...echoRecord(21), agentPubkey: keys.stranger.publicKey };
    const address = sessionAddress(keys.agent.publicKey, '2024-05-01');
    const { template } = tickTemplate(record, { seq: 21, prev: tickWithSeq(events, 20).id }, address, { signer: stranger, ownerPubkey: keys.owner.publicKey, visibility: 'private' });
    const forged = stranger.signEvent(template);
    await publishAll(client, [forged]);
    const report = await verifyFrom(client);
    expect(report.ok).toBe(false);
    if (report.ok) return;
    expect(report.breaks).toEqual([expect.objectContaining({ kind: 'forged', seq: 21, eventId: forged.id })]);
  });

  it('(c) fails naming the reordered seq when the agent published ticks out of order', async () => {
    const { client } = await relayWithClient();
    const order = [1, 2, 3, 4, 5, 6, 7, 9, 8, 10];
    const events: NostrEvent[] = [];
    let prev: string | null = null;
    let session: TrajectorySessionState | null = null;
    order.forEach((seq, i) => {
      const record = echoRecord(seq, Date.UTC(2024, 4, 1, 12, i));
      const { template } = tickTemplate(record, { seq, prev }, sessionAddress(keys.agent.publicKey, '2024-05-01'), { signer: agent, ownerPubkey: keys.owner.publicKey, visibility: 'private' });
      const tick = agent.signEvent(template);
      prev = tick.id;
      session = nextSession(session, { id: tick.id, seq: i + 1, startedAt: record.startedAt, endedAt: record.endedAt });
      events.push(tick, agent.signEvent(sessionTemplate(session, 'private')));
    });
    await publishAll(client, events);
    const report = await verifyFrom(client);
    expect(report.ok).toBe(false);
    if (report.ok) return;
    const backwards = report.breaks.find((b) => b.kind === 'seq' && b.seq === 8)!;
    expect(backwards.eventId).toBe(tickWithSeq(events, 8).id);
    expect(backwards.message).toContain('has seq 8 but follows seq 9');
    expect(backwards.message).toContain('seq goes backwards (reordered)');
  });

  it('(d) fails naming the tick whose content was edited in the relay database', async () => {
    const { relay, client } = await relayWithClient();
    const events = twentyTicks();
    await publishAll(client, events);
    const victim = tickWithSeq(events, 5);
    const changed = relay.relay.store.db
      .prepare(`UPDATE events SET raw = json_set(raw, '$.content', ?) WHERE id = ?`)
      .run(victim.content.slice(0, -8) + 'AAAAAAAA', victim.id).changes;
    expect(changed).toBe(1);
    const report = await verifyFrom(client);
    expect(report.ok).toBe(false);
    if (report.ok) return;
    expect(report.breaks).toEqual([expect.objectContaining({ kind: 'tampered', seq: 5, eventId: victim.id })]);
    // The RelayPool drops events that fail verification on arrival, so through it the edit shows as a gap.
    const pool = new WsRelayPool({ relays: [relay.url], logger: silentLogger });
    open.push(pool);
    const viaPool = await verifyFrom(queryFromStream(pool));
    expect(!viaPool.ok && viaPool.breaks[0]).toMatchObject({ kind: 'missing', seq: 5, eventId: victim.id });
  });
});
