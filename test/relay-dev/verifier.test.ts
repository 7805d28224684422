/** The relay's signature workers agree with src/protocol/crypto.verifyEvent, forgeries included. */
import { afterEach, describe, expect, it } from 'vitest';
import { Verifier } from '../../relay-dev/index.js';
import { finalizeEvent, loadFastCrypto, verifyEvent } from '../../src/protocol/crypto.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { hexToBytes } from '../../src/protocol/hex.js';

let verifier: Verifier | undefined;
afterEach(async () => {
  await verifier?.close();
  verifier = undefined;
});

describe('Verifier (worker threads)', () => {
  it('accepts valid events and refuses edited content, bad signatures, uppercase hex and off-curve keys, like verifyEvent', async () => {
    await loadFastCrypto();
    verifier = new Verifier(1);
    const deadline = Date.now() + 10_000;
    while (verifier.readyWorkers === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(verifier.readyWorkers).toBe(1);
    const good = Array.from({ length: 8 }, (_, i) => finalizeEvent({ kind: 1, created_at: 1_700_000_000 + i, tags: [], content: `n${i}` }, hexToBytes('61'.repeat(32))));
    const bad: NostrEvent[] = [
      { ...good[0]!, content: 'edited' },
      { ...good[1]!, sig: good[1]!.sig.replace(/^./, good[1]!.sig[0] === '0' ? '1' : '0') },
      { ...good[2]!, sig: good[2]!.sig.toUpperCase() },
      { ...good[3]!, pubkey: 'f'.repeat(64) },
    ];
    const all = [...good, ...bad];
    const results = await Promise.all(all.map((e) => verifier!.verify(e, JSON.stringify(e))));
    expect(results).toEqual(all.map((e) => verifyEvent(e)));
    expect(results).toEqual([...good.map(() => true), ...bad.map(() => false)]);
  });
});
