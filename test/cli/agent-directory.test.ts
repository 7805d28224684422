/**
 * The daemon's one record per agent (src/cli/agent-directory.ts): found by index and by key, the
 * agent's signer itself (real NIP-06 keys, real signatures), names renamed in place, relays unset
 * until the daemon hosts the agent, and a row with another key replacing the record.
 */
import { describe, expect, it } from 'vitest';
import { AgentDirectory } from '../../src/cli/agent-directory.js';
import { loadFastCrypto, verifyEvent } from '../../src/protocol/crypto.js';
import { deriveFromSeed, mnemonicToSeed } from '../../src/protocol/nip06.js';
import { KeyMismatchError, KeyRing } from '../../src/signer/key-ring.js';
import { TEST_MNEMONIC } from '../helpers/daemon.js';

const seed = mnemonicToSeed(TEST_MNEMONIC);
const pubkeyOf = (index: number): string => deriveFromSeed(seed, index + 1).publicKey;

describe('AgentDirectory', () => {
  it('keeps one record per agent: by index and key, its name and relays, and it signs as the agent', async () => {
    await loadFastCrypto();
    const ring = new KeyRing({ seed });
    const directory = new AgentDirectory(ring);
    const rows = [0, 1, 2].map((index) => ({ index, pubkey: pubkeyOf(index), name: `a${index}` }));
    for (const row of rows) directory.note(row);
    expect(ring.derivations).toBe(0);

    const a1 = directory.get(1)!;
    expect(directory.byPubkey(pubkeyOf(1))).toBe(a1);
    expect(directory.nameOf(pubkeyOf(1))).toBe('a1');
    expect(directory.relaysOf(pubkeyOf(1))).toBeUndefined();
    expect(directory.get(7)).toBeUndefined();
    expect(directory.nameOf(pubkeyOf(7))).toBeUndefined();

    // Read again (a later list of the rows, the agent renamed): the same record, its first key string kept.
    const again = directory.note({ index: 1, pubkey: `${pubkeyOf(1)}`, name: 'renamed' });
    expect(again).toBe(a1);
    expect(directory.nameOf(pubkeyOf(1))).toBe('renamed');
    a1.relays = ['ws://127.0.0.1:1'];
    expect(directory.relaysOf(pubkeyOf(1))).toEqual(['ws://127.0.0.1:1']);

    // The record is the agent's signer: the secret key is derived on the first signature only.
    const event = a1.signEvent({ kind: 1, created_at: 1_700_000_000, tags: [], content: 'hello' });
    expect(event.pubkey).toBe(pubkeyOf(1));
    expect(verifyEvent(event)).toBe(true);
    expect(ring.derivations).toBe(1);
    expect(JSON.stringify(a1)).toBe(JSON.stringify({ publicKey: pubkeyOf(1) }));
  });

  it('replaces a record whose row names another key, and that key is checked when it signs', async () => {
    await loadFastCrypto();
    const directory = new AgentDirectory(new KeyRing({ seed }));
    directory.note({ index: 4, pubkey: pubkeyOf(4), name: 'four' });
    // A row of index 4 with the key of index 5 (a home opened with another mnemonic looks like this).
    const wrong = directory.note({ index: 4, pubkey: pubkeyOf(5), name: 'four' });
    expect(directory.byPubkey(pubkeyOf(4))).toBeUndefined();
    expect(directory.byPubkey(pubkeyOf(5))).toBe(wrong);
    expect(() => wrong.signEvent({ kind: 1, created_at: 1_700_000_000, tags: [], content: 'x' })).toThrow(KeyMismatchError);
  });

  it('hosts agents listing the same relays on one shared array, and others on their own', () => {
    const directory = new AgentDirectory(new KeyRing({ seed }));
    const row = (index: number) => ({ index, pubkey: pubkeyOf(index), name: `a${index}` });
    // Each row's relays are parsed from its own config: equal lists, distinct arrays.
    const a = directory.host(row(0), ['wss://one.example', 'wss://two.example']);
    const b = directory.host(row(1), ['wss://one.example', 'wss://two.example']);
    const c = directory.host(row(2), ['wss://one.example']);
    expect(b.relays).toBe(a.relays);
    expect(a.relays).toEqual(['wss://one.example', 'wss://two.example']);
    expect(c.relays).toEqual(['wss://one.example']);
    expect(directory.relaysOf(pubkeyOf(2))).toBe(c.relays);
    // Hosted again with other relays (its config changed): the record follows.
    directory.host(row(1), ['wss://one.example']);
    expect(directory.relaysOf(pubkeyOf(1))).toBe(c.relays);
    expect(directory.relaysOf(pubkeyOf(0))).toEqual(['wss://one.example', 'wss://two.example']);
  });
});

