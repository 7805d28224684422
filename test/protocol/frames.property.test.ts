/** Property tests of the relay frame parser: any text from a relay gives a message or a reason, never a throw. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { finalizeEvent } from '../../src/protocol/crypto.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { parseRelayFrame } from '../../src/protocol/schema.js';

const event = finalizeEvent({ kind: 1, created_at: 1_700_000_000, tags: [['t', 'x']], content: 'hi' }, hexToBytes('a1'.repeat(32)));
const json = fc.jsonValue({ maxDepth: 3 });
/** Well-formed relay messages, each of the seven verbs. */
const valid = fc.oneof(
  fc.string({ minLength: 1, maxLength: 20 }).map((id) => ['EVENT', id, event]),
  fc.tuple(fc.boolean(), fc.string({ maxLength: 40 })).map(([ok, msg]) => ['OK', event.id, ok, msg]),
  fc.string({ minLength: 1, maxLength: 20 }).map((id) => ['EOSE', id]),
  fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 40 })).map(([id, msg]) => ['CLOSED', id, msg]),
  fc.string({ maxLength: 40 }).map((msg) => ['NOTICE', msg]),
  fc.string({ maxLength: 40 }).map((c) => ['AUTH', c]),
  fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.nat()).map(([id, count]) => ['COUNT', id, { count }]),
);
/** A valid message with one element replaced by anything, dropped, or added. */
const broken = fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 2 }), json).map(([m, at, op, v]) => {
  const copy = [...m] as unknown[];
  const i = at % copy.length;
  if (op === 0) copy[i] = v;
  else if (op === 1) copy.splice(i, 1);
  else copy.push(v);
  return copy;
});

describe('relay frame parser: generated frames', () => {
  it('any text: a message or a reason', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 4 }), fc.constant('['.repeat(5000))), (text) => {
        const result = parseRelayFrame(text);
        if (!result.ok) expect(result.problem).toMatch(/^frame is not /);
      }),
      { numRuns: 2000 },
    );
  });

  it('well-formed messages parse to themselves; broken ones are refused or still well-formed', () => {
    fc.assert(fc.property(valid, (m) => void expect(parseRelayFrame(JSON.stringify(m))).toEqual({ ok: true, message: m })), { numRuns: 2000 });
    fc.assert(
      fc.property(broken, (m) => {
        const result = parseRelayFrame(JSON.stringify(m));
        if (result.ok) expect(result.message[0]).toBe(m[0]);
        else expect(result.problem.length).toBeGreaterThan(10);
      }),
      { numRuns: 2000 },
    );
  });
});
