/** The split-brain rule: which snapshot or trajectory head on the relays holds an agent, and which lets it run. */
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/recovery/format.js';
import { splitBrainVerdict } from '../../src/recovery/split-brain.js';
import type { AgentSnapshotState } from '../../src/recovery/state.js';

const manifest = (generation: number, daemon: string, final = false, seq = 5): Manifest => ({
  version: 1,
  generation,
  daemon,
  final,
  createdAt: 1_700_000_000_000,
  agent: { name: 'bot', index: 0, pubkey: 'a'.repeat(64) },
  trajectory: { seq, id: 'b'.repeat(64) },
  parts: [],
});
const local = (generation: number, daemon: string, extra: Partial<AgentSnapshotState> = {}): AgentSnapshotState => ({ generation, daemon, hashes: {}, createdAt: 0, final: false, ...extra });
const OURS = 'ours-000000000000';
const THEIRS = 'theirs-0000000000';

describe('the split-brain rule', () => {
  it('runs an agent when the newest snapshot is its own or one this home knows', () => {
    expect(splitBrainVerdict({ ours: OURS, local: undefined, localSeq: 0, remote: undefined, remoteSeq: undefined })).toEqual({ action: 'run' });
    expect(splitBrainVerdict({ ours: OURS, local: local(4, OURS), localSeq: 5, remote: manifest(4, OURS), remoteSeq: 5 }).action).toBe('run');
    // Restored from (or taken over from) the other machine's generation 7: known.
    expect(splitBrainVerdict({ ours: OURS, local: local(7, THEIRS), localSeq: 5, remote: manifest(7, THEIRS), remoteSeq: 5 }).action).toBe('run');
    // An older one of another machine's.
    expect(splitBrainVerdict({ ours: OURS, local: local(9, OURS), localSeq: 5, remote: manifest(7, THEIRS), remoteSeq: 5 }).action).toBe('run');
  });

  it("holds it when another machine's unknown snapshot is not final, or its trajectory went further", () => {
    const newer = splitBrainVerdict({ ours: OURS, local: local(4, OURS), localSeq: 5, remote: manifest(5, THEIRS), remoteSeq: 5 });
    expect(newer.action).toBe('hold');
    expect(newer.action === 'hold' && newer.reason).toMatch(/daemon theirs-0000000000\) wrote snapshot generation 5/);
    // The same generation by another writer: two machines wrote at once.
    expect(splitBrainVerdict({ ours: OURS, local: local(5, OURS), localSeq: 5, remote: manifest(5, THEIRS), remoteSeq: 5 }).action).toBe('hold');
    // A home that never wrote a snapshot of an agent someone else runs.
    expect(splitBrainVerdict({ ours: OURS, local: undefined, localSeq: 0, remote: manifest(1, THEIRS), remoteSeq: 1 }).action).toBe('hold');
    // Our snapshot is the newest, but ticks past our head were published (by a machine that did not snapshot yet).
    const ticks = splitBrainVerdict({ ours: OURS, local: local(4, OURS), localSeq: 5, remote: manifest(4, OURS), remoteSeq: 8 });
    expect(ticks.action === 'hold' && ticks.reason).toMatch(/reaches tick 8, past this home's tick 5/);
    // …unless the owner accepted them with agent takeover.
    expect(splitBrainVerdict({ ours: OURS, local: local(4, OURS, { acceptedSeq: 8 }), localSeq: 5, remote: manifest(4, OURS), remoteSeq: 8 }).action).toBe('run');
  });

  it("adopts another machine's final snapshot (it stopped and handed the agent over)", () => {
    const v = splitBrainVerdict({ ours: OURS, local: local(4, OURS), localSeq: 5, remote: manifest(6, THEIRS, true, 9), remoteSeq: 9 });
    expect(v.action).toBe('adopt');
  });
});
