/** Property tests of the trajectory decoder and verifier: any event read back from a relay gives a reason, never a throw. */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { Kind } from '../../src/protocol/kinds.js';
import { readTickContent, readTickHeader } from '../../src/trajectory/decode.js';
import { verifyTrajectory } from '../../src/trajectory/verify.js';
import { agent, keys, owner, runTicks } from './fixtures.js';

const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });
const tagValue = fc.oneof(fc.string({ maxLength: 80 }), hex, fc.constantFrom('1', '0', '-1', '01', '1e3', 'public', 'private', `${Kind.TrajectorySession}:${keys.agent.publicKey}:2024-05-01`));
const tag = fc.tuple(fc.constantFrom('seq', 'prev', 'a', 'visibility', 'e', 'd', 'p', 'x'), tagValue).map(([k, v]) => [k, v]);
const content = fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 3 }), fc.constantFrom('{"v":1}', 'null', '[]', '{"v":1,"startedAt":-1}'));

/** A tick-like event of the agent (not signed: the decoder reads tags and content only). */
const tickLike = fc.record({ kind: fc.constantFrom(Kind.TrajectoryTick, Kind.TrajectorySession, 1), tags: fc.array(tag, { maxLength: 8 }), content, created_at: fc.nat() }).map(
  (e): NostrEvent => ({ ...e, id: '0'.repeat(64), pubkey: keys.agent.publicKey, sig: '0'.repeat(128) }),
);

beforeAll(async () => void (await loadFastCrypto()));
const { ticks, sessions } = runTicks(3);
const valid = [...ticks, ...sessions];

describe('trajectory decoder: generated events', () => {
  it('readTickHeader and readTickContent return a header, content or a reason for any event', () => {
    fc.assert(
      fc.property(tickLike, fc.constantFrom('public' as const, 'private' as const), (event, visibility) => {
        const header = readTickHeader(event);
        if ('problem' in header) expect(header.problem.length).toBeGreaterThan(5);
        else expect(header.header.seq).toBeGreaterThan(0);
        const read = readTickContent(event, visibility, owner);
        if ('problem' in read) expect(read.problem).toMatch(/^its content /);
        else expect('content' in read || 'locked' in read).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('verifyTrajectory never throws: dropped, duplicated, reordered and forged ticks become breaks with reasons', () => {
    const forged = fc.record({ tags: fc.array(tag, { maxLength: 6 }), content }).map((t) => agent.signEvent({ kind: Kind.TrajectoryTick, ...t, created_at: 1_714_564_800 }));
    fc.assert(
      fc.property(fc.subarray(valid), fc.array(forged, { maxLength: 2 }), fc.array(fc.constantFrom(...valid), { maxLength: 2 }), (kept, extra, dup) => {
        const { report } = verifyTrajectory([...kept, ...extra, ...dup].reverse(), { agentPubkey: keys.agent.publicKey, owner });
        if (!report.ok) for (const b of report.breaks) expect(b.message.length).toBeGreaterThan(10);
        if (kept.length === valid.length && extra.length === 0) expect(report.ok).toBe(true);
        if (extra.length > 0) expect(report.ok).toBe(false);
      }),
      { numRuns: 150 },
    );
  });
});
