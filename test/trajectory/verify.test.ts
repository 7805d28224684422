import { beforeAll, describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { Kind } from '../../src/protocol/kinds.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { tickTemplate } from '../../src/trajectory/format.js';
import { nextSession, sessionAddress, sessionDay, sessionTemplate, trajectoryHash } from '../../src/trajectory/session.js';
import type { TrajectorySessionState } from '../../src/trajectory/types.js';
import { verifyTrajectory } from '../../src/trajectory/verify.js';
import { agent, echoRecord, keys, owner, relayView, runTicks, stranger } from './fixtures.js';

beforeAll(async () => {
  await loadFastCrypto();
});

const verify = (events: NostrEvent[], reader = owner) => verifyTrajectory(events, { agentPubkey: keys.agent.publicKey, owner: reader });
const seqOf = (e: NostrEvent) => Number(e.tags.find((t) => t[0] === 'seq')?.[1]);

/** Signs ticks claiming the given seqs in this order, chained by prev, with honest sessions over that order. */
function signInOrder(seqs: number[]): NostrEvent[] {
  const events: NostrEvent[] = [];
  let prev: string | null = null;
  let session: TrajectorySessionState | null = null;
  seqs.forEach((seq, i) => {
    const record = echoRecord(seq, Date.UTC(2024, 4, 1, 12, i));
    const address = sessionAddress(keys.agent.publicKey, sessionDay(record.startedAt));
    const { template } = tickTemplate(record, { seq, prev }, address, { signer: agent, ownerPubkey: keys.owner.publicKey, visibility: 'private' });
    const tick = agent.signEvent(template);
    events.push(tick);
    prev = tick.id;
    session = nextSession(session, { id: tick.id, seq: i + 1, startedAt: record.startedAt, endedAt: record.endedAt });
  });
  events.push(agent.signEvent(sessionTemplate(session!, 'private')));
  return events;
}

describe('verifyTrajectory on 20 chained ticks of an echo agent', () => {
  const { ticks, sessions } = runTicks(20);
  const events = relayView(ticks, sessions);

  it('passes, reading every tick with the owner key', () => {
    const { report, ticks: read } = verify(events);
    expect(report).toEqual({ ok: true, ticks: 20, sessions: 1, headId: ticks[19]!.id, unsealed: 0, locked: 0 });
    expect(read.map((t) => t.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(read[4]!.content?.trigger.text).toBe('hello number 5');
    expect(read[4]!.content?.steps.map((s) => s.type)).toEqual(['perceive', 'think', 'message', 'state']);
  });

  it('chains ticks with seq, prev, a and e tags and seals them in the session', () => {
    expect(ticks[0]!.tags.find((t) => t[0] === 'prev')).toBeUndefined();
    for (let i = 1; i < 20; i++) expect(ticks[i]!.tags).toContainEqual(['prev', ticks[i - 1]!.id]);
    expect(ticks[6]!.tags).toContainEqual(['seq', '7']);
    expect(ticks[6]!.tags).toContainEqual(['a', `${Kind.TrajectorySession}:${keys.agent.publicKey}:2024-05-01`]);
    expect(ticks[6]!.tags).toContainEqual(['e', echoRecord(7).trigger.eventId]);
    const session = sessions[19]!;
    expect(session.kind).toBe(39230);
    expect(session.tags).toContainEqual(['tick', '20']);
    expect(session.tags).toContainEqual(['seq', '1', '20']);
    expect(session.tags).toContainEqual(['trajectory_hash', trajectoryHash(ticks.map((t) => t.id))]);
    // Every new session version is later than the one before, so relays replace it.
    for (let i = 1; i < 20; i++) expect(sessions[i]!.created_at).toBeGreaterThan(sessions[i - 1]!.created_at);
  });

  it('(a) fails naming the missing tick when one is deleted', () => {
    const { report } = verify(events.filter((e) => e.id !== ticks[6]!.id));
    expect(report.ok).toBe(false);
    if (report.ok) return;
    const missing = report.breaks.filter((b) => b.kind === 'missing');
    expect(missing[0]).toMatchObject({ seq: 7, eventId: ticks[6]!.id });
    expect(missing[0]!.message).toContain(`seq 7 is missing: tick seq 8 (${ticks[7]!.id}) follows tick ${ticks[6]!.id}, which was not found`);
    expect(missing.some((b) => b.message.includes('seq 7 missing'))).toBe(true);
  });

  it('(a) fails when the last tick is deleted: the session seals 20', () => {
    const { report } = verify(events.filter((e) => e.id !== ticks[19]!.id));
    expect(report.ok).toBe(false);
    if (report.ok) return;
    expect(report.breaks).toEqual([expect.objectContaining({ kind: 'missing', seq: 20 })]);
    expect(report.breaks[0]!.message).toMatch(/seals 20 ticks \(seq 1–20\) but only 19 were found: seq 20 missing/);
  });

  it('(b) names a validly signed tick from another key as a forgery', () => {
    const record = { ...echoRecord(21), agentPubkey: keys.stranger.publicKey };
    const address = sessionAddress(keys.agent.publicKey, '2024-05-01');
    const { template } = tickTemplate(record, { seq: 21, prev: ticks[19]!.id }, address, { signer: stranger, ownerPubkey: keys.owner.publicKey, visibility: 'private' });
    const forged = stranger.signEvent(template);
    const { report } = verify([...events, forged]);
    expect(report.ok).toBe(false);
    if (report.ok) return;
    expect(report.breaks).toEqual([expect.objectContaining({ kind: 'forged', seq: 21, eventId: forged.id })]);
    expect(report.breaks[0]!.message).toContain(`signed by ${keys.stranger.publicKey}, not by the agent ${keys.agent.publicKey}`);
  });

  it('(c) fails naming the reordered seqs', () => {
    const honest = verify(signInOrder([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(honest.report.ok).toBe(true);
    const swapped = signInOrder([1, 2, 3, 4, 6, 5, 7, 8]);
    const { report } = verify(swapped);
    expect(report.ok).toBe(false);
    if (report.ok) return;
    const seqBreaks = report.breaks.filter((b) => b.kind === 'seq');
    const backwards = seqBreaks.find((b) => b.message.includes('seq goes backwards'));
    expect(backwards).toMatchObject({ seq: 5, eventId: swapped[5]!.id });
    expect(backwards!.message).toContain('has seq 5 but follows seq 6');
    expect(seqBreaks.find((b) => b.seq === 6)!.message).toContain('follows seq 4');
  });

  it('(d) fails naming the tick whose stored content was edited', () => {
    const edited = events.map((e) => (e.id === ticks[9]!.id ? { ...e, content: e.content.slice(0, -4) + 'AAAA' } : e));
    const { report } = verify(edited);
    expect(report.ok).toBe(false);
    if (report.ok) return;
    expect(report.breaks).toEqual([expect.objectContaining({ kind: 'tampered', seq: 10, eventId: ticks[9]!.id })]);
    expect(report.breaks[0]!.message).toContain('was changed after signing');
  });

  it('reports a replaced signature, a fork and a stale session hash', () => {
    const badSig = events.map((e) => (e.id === ticks[2]!.id ? { ...e, sig: ticks[3]!.sig } : e));
    const sig = verify(badSig).report;
    expect(!sig.ok && sig.breaks).toEqual([expect.objectContaining({ kind: 'signature', seq: 3 })]);

    const record = echoRecord(6, Date.UTC(2024, 4, 1, 12, 5, 30));
    const address = sessionAddress(keys.agent.publicKey, '2024-05-01');
    const twin = agent.signEvent(tickTemplate(record, { seq: 6, prev: ticks[4]!.id }, address, { signer: agent, ownerPubkey: keys.owner.publicKey, visibility: 'private' }).template);
    const fork = verify([...events, twin]).report;
    expect(fork.ok).toBe(false);
    if (fork.ok) return;
    const forkBreak = fork.breaks.find((b) => b.kind === 'fork')!;
    expect(forkBreak.message).toContain(`the chain forks after seq 5 (${ticks[4]!.id})`);
    expect(forkBreak.message).toContain(twin.id);
    expect(fork.breaks.some((b) => b.kind === 'hash')).toBe(true);
  });

  it('treats ticks newer than the newest session as unsealed, not broken', () => {
    const { report } = verify([...ticks, sessions[16]!]);
    expect(report).toMatchObject({ ok: true, ticks: 20, unsealed: 3 });
  });

  it('counts private ticks as locked without the owner key, and fails with the wrong one', () => {
    const locked = verifyTrajectory(events, { agentPubkey: keys.agent.publicKey }).report;
    expect(locked).toMatchObject({ ok: true, locked: 20 });
    const { report } = verify(events, new SecretKeySigner(keys.stranger.secretKey));
    expect(report.ok).toBe(false);
    if (report.ok) return;
    expect(report.breaks).toHaveLength(20);
    expect(report.breaks[0]).toMatchObject({ kind: 'content', seq: 1 });
    expect(report.breaks[0]!.message).toContain("cannot be decrypted with the owner's key");
  });

  it('names malformed tags and a missing session', () => {
    const noSeq = agent.signEvent({ ...ticks[0]!, tags: ticks[0]!.tags.filter((t) => t[0] !== 'seq') });
    const tags = verify([noSeq]).report;
    expect(!tags.ok && tags.breaks[0]).toMatchObject({ kind: 'tags', message: expect.stringContaining('its seq tag is missing') });
    const noSession = verify(ticks).report;
    expect(!noSession.ok && noSession.breaks).toEqual([expect.objectContaining({ kind: 'session', message: expect.stringContaining('was not found, so nothing seals ticks seq 1–20') })]);
    expect(seqOf(ticks[3]!)).toBe(4);
  });
});
