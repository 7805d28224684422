/** Property tests of relay-dev's frame handling: any frame a client sends is answered or ignored, never a crash, and the connection keeps serving. */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientMessageSchema } from '../../src/protocol/schema.js';
import { RelayHarness, alice, sign } from './fixtures.js';

const h = new RelayHarness({ verifyThreads: 0 });
beforeAll(async () => void (await h.start()));
afterAll(async () => h.close());

const valid = sign(alice, { kind: 1, content: 'hello', tags: [['t', 'x']] }) as unknown as Record<string, unknown>;
const json = fc.jsonValue({ maxDepth: 3 });
/** A valid event with one field replaced by anything. */
const brokenEvent = fc.tuple(fc.constantFrom('id', 'pubkey', 'sig', 'kind', 'created_at', 'tags', 'content', 'extra'), json).map(([k, v]) => ({ ...valid, [k]: v }));
const frame = fc.oneof(
  fc.string({ maxLength: 100 }),
  fc.json({ maxDepth: 3 }),
  fc.tuple(fc.constantFrom('EVENT', 'REQ', 'COUNT', 'AUTH', 'NEG-OPEN', 'event', ''), fc.array(json, { maxLength: 3 })).map(([verb, rest]) => JSON.stringify([verb, ...rest])),
  fc.tuple(fc.constantFrom('EVENT', 'AUTH'), brokenEvent).map((m) => JSON.stringify(m)),
  fc.tuple(fc.constantFrom('REQ', 'COUNT'), fc.constantFrom('s1', 's2', '', 'x'.repeat(100)), fc.array(fc.oneof(json, fc.dictionary(fc.constantFrom('kinds', 'authors', '#p', 'limit', 'since', 'bogus'), json)), { maxLength: 2 })).map(([verb, id, filters]) => JSON.stringify([verb, id, ...filters])),
);

/** Whether a frame is a well-formed NIP-01 client message (then silence may be a fine answer). */
function wellFormed(text: string): boolean {
  try {
    return ClientMessageSchema.safeParse(JSON.parse(text)).success;
  } catch {
    return false;
  }
}

describe('relay-dev: generated client frames', () => {
  it('every malformed frame gets a NOTICE, an OK false or a CLOSED; the connection stays open and answers the next REQ', async () => {
    const client = await h.connect();
    const frames = fc.sample(frame, { numRuns: 1000, seed: 1109 });
    let refused = 0;
    for (const text of frames) {
      client.send(text);
      await h.relay.relay.drain();
      const probe = await client.req('probe', { kinds: [1], limit: 1 });
      expect(probe.closed).toBeUndefined();
      const answers = client.messages.splice(0);
      if (!wellFormed(text)) {
        const errors = answers.filter((m) => m[0] === 'NOTICE' || (m[0] === 'OK' && m[2] === false) || m[0] === 'CLOSED');
        expect([text.slice(0, 200), errors.length > 0]).toEqual([text.slice(0, 200), true]);
        refused += 1;
      }
    }
    expect(refused).toBeGreaterThan(600);
    expect(client.closedWith).toBeUndefined();
    expect(await client.publish(sign(alice, { kind: 1, content: 'still here' }))).toEqual([true, '']);
  });
});
