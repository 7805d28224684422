/**
 * The signature worker pool: the direct libsecp256k1 binding (with its public-key cache) must give exactly
 * the answers of the project's inline verifyEvent, including on forgeries, and fall back when it cannot load.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Verifier, type VerifierOptions } from '../../relay-dev/index.js';
import { loadFastCrypto, verifyEvent } from '../../src/protocol/crypto.js';
import { getEventHash, type NostrEvent } from '../../src/protocol/event.js';
import { alice, bob, carol, sign, T0, waitFor } from './fixtures.js';

const verifiers: Verifier[] = [];

beforeAll(async () => {
  await loadFastCrypto();
});
afterEach(async () => {
  for (const v of verifiers.splice(0)) await v.close();
});

async function pool(options: VerifierOptions = {}): Promise<{ verifier: Verifier; warnings: string[] }> {
  const warnings: string[] = [];
  const verifier = new Verifier(2, (msg) => warnings.push(msg), options);
  verifiers.push(verifier);
  await waitFor(() => (verifier.readyWorkers === 2 ? true : undefined), 20_000, 'signature workers');
  return { verifier, warnings };
}

/** Valid events by three authors, with content that exercises JSON escaping in the id hash. */
function validEvents(): NostrEvent[] {
  const contents = ['plain', 'é ü 中文 🎉', 'quote " backslash \\ newline \n tab \t', '\u0000\u001f control', ''];
  return [alice, bob, carol].flatMap((who, w) =>
    contents.map((content, i) => sign(who, { kind: 1, created_at: T0 + 10 * w + i, tags: [['t', `x${i}`], ['p', who.pk]], content })),
  );
}

/** Forgeries of each valid event: changed content, another event's signature, another author, uppercase hex. */
function forgeries(valid: NostrEvent[]): NostrEvent[] {
  const offCurve = '0000000000000000000000000000000000000000000000000000000000000005'; // x^3 + 7 is not a square
  const [first] = valid;
  if (!first) throw new Error('no valid events');
  const offCurveEvent = { ...first, pubkey: offCurve };
  return [
    ...valid.map((e) => ({ ...e, content: `${e.content}!` })),
    ...valid.map((e, i) => ({ ...e, sig: valid[(i + 1) % valid.length]?.sig ?? e.sig })),
    { ...first, pubkey: bob.pk },
    { ...first, tags: [...first.tags, ['t', 'added']] },
    { ...first, created_at: first.created_at + 1 },
    { ...first, sig: first.sig.toUpperCase() },
    { ...offCurveEvent, id: getEventHash(offCurveEvent) },
  ];
}

async function check(verifier: Verifier, events: NostrEvent[]): Promise<boolean[]> {
  return Promise.all(events.map((e) => verifier.verify(e, JSON.stringify(e))));
}

describe('Verifier worker pool', () => {
  it('uses the direct libsecp256k1 binding and agrees with inline verification on valid and forged events', async () => {
    const { verifier, warnings } = await pool();
    const valid = validEvents();
    const forged = forgeries(valid);
    expect(valid.every((e) => verifyEvent(e))).toBe(true);
    expect(forged.some((e) => verifyEvent(e))).toBe(false);
    expect(await check(verifier, [...valid, ...forged])).toEqual([...valid.map(() => true), ...forged.map(() => false)]);
    expect(warnings).toEqual([]);
  });

  it('answers correctly when the public-key cache is smaller than the number of authors', async () => {
    const { verifier, warnings } = await pool({ keyCacheSlots: 2 });
    const valid = validEvents();
    const forged = forgeries(valid);
    // Interleaved authors evict each other on every check; run twice so cached and re-parsed keys both occur.
    for (let round = 0; round < 2; round++) {
      expect(await check(verifier, [...valid, ...forged])).toEqual([...valid.map(() => true), ...forged.map(() => false)]);
    }
    expect(warnings).toEqual([]);
  });

  it('falls back to nostr-wasm verifyEvent, with a warning, when the direct binding cannot load', async () => {
    const { verifier, warnings } = await pool({ wasmFile: '/nonexistent/secp256k1.wasm' });
    const valid = validEvents();
    const forged = forgeries(valid);
    expect(await check(verifier, [...valid, ...forged])).toEqual([...valid.map(() => true), ...forged.map(() => false)]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/direct libsecp256k1 binding unavailable .*using nostr-wasm verifyEvent/);
  });
});
