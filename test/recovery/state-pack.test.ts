/** The packed form of an agent's snapshot bookkeeping (src/recovery/state-pack.ts): one string, given back exactly. */
import { describe, expect, it } from 'vitest';
import type { AgentSnapshotState } from '../../src/recovery/state.js';
import { StatePacker } from '../../src/recovery/state-pack.js';

const hex = (n: number): string => n.toString(16).padStart(2, '0').repeat(32);

describe('StatePacker', () => {
  it('packs an entry into one string and gives every field back, each optional one only when set', () => {
    const packer = new StatePacker();
    const entries: AgentSnapshotState[] = [
      { generation: 4, daemon: 'daemon-1', hashes: { 'snap/agent/0': hex(1), 'snap/kv/0': hex(2) }, createdAt: 1_700_000_000, final: true, acceptedSeq: 7, manifestId: hex(255), previousManifestId: hex(254) },
      { generation: Number.MAX_SAFE_INTEGER, daemon: 'daemon-2', hashes: { 'snap/agent/0': hex(3) }, createdAt: 0, final: false },
      { generation: 0, daemon: 'daemon-1', hashes: {}, createdAt: 5, final: false, previousManifestId: hex(9) },
      { generation: 1, daemon: 'daemon-1', hashes: { 'snap/agent/0': hex(4), 'snap/kv/0': hex(5) }, createdAt: 6, final: false, acceptedSeq: 0, manifestId: hex(10) },
    ];
    const packed = entries.map((e) => packer.pack(e));
    expect(packed.every((p) => typeof p === 'string')).toBe(true);
    expect(packed.map((p) => packer.unpack(p))).toEqual(entries);
    // A fresh object each time, in the file's field order.
    const again = packer.unpack(packed[0]!);
    again.hashes['snap/kv/0'] = 'x';
    expect(packer.unpack(packed[0]!)).toEqual(entries[0]);
    expect(Object.keys(packer.unpack(packed[0]!))).toEqual(['generation', 'daemon', 'hashes', 'createdAt', 'final', 'acceptedSeq', 'manifestId', 'previousManifestId']);
  });

  it('keeps an entry it cannot pack as it is: a hash that is not 64-hex, a number that is not a safe integer', () => {
    const packer = new StatePacker();
    const odd: AgentSnapshotState = { generation: 1, daemon: 'd', hashes: { a: 'h' }, createdAt: 10, final: false };
    const huge: AgentSnapshotState = { generation: 2 ** 60, daemon: 'd', hashes: {}, createdAt: 10, final: false };
    expect(typeof packer.pack(odd)).toBe('object');
    expect(packer.unpack(packer.pack(odd))).toEqual(odd);
    expect(packer.unpack(packer.pack(huge))).toEqual(huge);
  });
});
