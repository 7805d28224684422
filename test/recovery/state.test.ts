import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SnapshotStateFile } from '../../src/recovery/state.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function file(): string {
  const dir = mkdtempSync(join(tmpdir(), 'snapshot-state-'));
  dirs.push(dir);
  return join(dir, 'snapshots.json');
}

const entry = (generation: number) => ({ generation, daemon: 'daemon-1', hashes: { a: 'h' }, createdAt: 10, final: false });

describe('SnapshotStateFile', () => {
  it('keeps the entries of agent indexes from the file; a key that is no index is left out, not an error', () => {
    const path = file();
    writeFileSync(path, JSON.stringify({ daemon: 'home-daemon-1', agents: { '0': entry(2), '12': entry(3), x: entry(9) } }));
    const state = new SnapshotStateFile(path);
    expect([state.agent(0)?.generation, state.agent(12)?.generation, state.agent(1)]).toEqual([2, 3, undefined]);
    state.save();
    expect(Object.keys(JSON.parse(readFileSync(path, 'utf8')).agents)).toEqual(['0', '12']);
  });

  it('writes every change at once by default (the CLI commands exit right after)', () => {
    const path = file();
    const state = new SnapshotStateFile(path);
    state.setAgent(3, entry(1));
    expect(new SnapshotStateFile(path).agent(3)?.generation).toBe(1);
  });

  it('with coalesceMs, holds changes in memory until flush, then writes them all', () => {
    const path = file();
    const state = new SnapshotStateFile(path, { coalesceMs: 60_000 });
    state.save();
    state.setAgent(1, entry(1));
    state.setAgent(2, entry(5));
    state.setRegistry({ hash: 'r', createdAt: 7 });
    expect(state.agent(2)?.generation).toBe(5);
    expect(new SnapshotStateFile(path).agent(1)).toBeUndefined();
    state.flush();
    const reread = new SnapshotStateFile(path);
    expect([reread.agent(1)?.generation, reread.agent(2)?.generation, reread.registry()?.hash]).toEqual([1, 5, 'r']);
    expect(reread.daemonId).toBe(state.daemonId);
    // Nothing pending: flush again leaves the file as it is.
    const before = readFileSync(path, 'utf8');
    state.flush();
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('keeps entries with SHA-256 hashes packed and gives them back, and the file, exactly as set', () => {
    const path = file();
    const hex = (n: number): string => n.toString(16).padStart(2, '0').repeat(32);
    const packed = { generation: 4, daemon: 'daemon-1', hashes: { 'snap/agent/0': hex(1), 'snap/kv/0': hex(2) }, createdAt: 99, final: true, acceptedSeq: 7, manifestId: hex(255), previousManifestId: hex(254) };
    const noManifest = { generation: 1, daemon: 'daemon-2', hashes: { 'snap/agent/0': hex(3) }, createdAt: 5, final: false };
    const state = new SnapshotStateFile(path);
    state.setAgent(1, packed);
    state.setAgent(2, noManifest);
    state.setAgent(3, entry(2));
    const reread = new SnapshotStateFile(path);
    expect([reread.agent(1), reread.agent(2), reread.agent(3)]).toEqual([packed, noManifest, entry(2)]);
    // A copy each time: changing what agent() returned does not change the state.
    reread.agent(1)!.hashes['snap/kv/0'] = 'x';
    expect(reread.agent(1)).toEqual(packed);
    expect(JSON.parse(readFileSync(path, 'utf8')).agents['1']).toEqual(packed);
  });

  // The fast check takes the file as written; anything else goes through the schema (defaults, or an error naming the file).
  it('reads an older file through the schema (defaults filled in) and refuses a damaged one by name', () => {
    const path = file();
    writeFileSync(path, JSON.stringify({ daemon: 'home-daemon-1', agents: { '0': { generation: 2, daemon: 'd' }, '1': entry(3) }, registry: { hash: 'r', createdAt: 1 } }));
    const state = new SnapshotStateFile(path);
    expect(state.isNew).toBe(false);
    expect([state.agent(0), state.agent(1)?.generation, state.registry()?.hash]).toEqual([{ generation: 2, daemon: 'd', hashes: {}, createdAt: 0, final: false }, 3, 'r']);
    for (const damaged of [{ daemon: 'home-daemon-1', agents: { '0': { ...entry(1), generation: -1 } } }, { daemon: 'home-daemon-1', agents: {}, registry: { hash: 3 } }, { daemon: 'short', agents: {} }]) {
      writeFileSync(path, JSON.stringify(damaged));
      expect(() => new SnapshotStateFile(path)).toThrow(/snapshots\.json is damaged/);
    }
    const fresh = new SnapshotStateFile(file());
    expect(fresh.isNew).toBe(true);
  });

  it('writes a file of many agents (many pieces) that is the JSON of the whole state, and reads it back', () => {
    const path = file();
    const hex = (n: number): string => (n % 256).toString(16).padStart(2, '0').repeat(32);
    const state = new SnapshotStateFile(path, { coalesceMs: 60_000 });
    const agents: Record<string, unknown> = {};
    for (let i = 0; i < 600; i++) {
      const value = { generation: i, daemon: 'daemon-1', hashes: { 'snap/agent/0': hex(i), 'snap/kv/0': hex(i + 1) }, createdAt: 1000 + i, final: i % 2 === 0, manifestId: hex(i + 2) };
      state.setAgent(i * 3, value);
      agents[String(i * 3)] = value;
    }
    state.setRegistry({ hash: 'r', createdAt: 7, chunks: ['c1'] });
    state.flush();
    const text = readFileSync(path, 'utf8');
    expect(text.length).toBeGreaterThan(2 * 64 * 1024);
    expect(text).toBe(`${JSON.stringify({ daemon: state.daemonId, agents, registry: { hash: 'r', createdAt: 7, chunks: ['c1'] } })}\n`);
    const reread = new SnapshotStateFile(path);
    expect([reread.agent(0), reread.agent(1797), reread.agent(1)]).toEqual([agents['0'], agents['1797'], undefined]);
  });
});
