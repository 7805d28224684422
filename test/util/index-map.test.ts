/**
 * IndexMap / IndexSet (src/util/index-map.ts): the per-agent tables of a daemon keyed by agent
 * index. Behaves as a Map / Set for get, set, has, delete, size and iteration (in index order).
 */
import { describe, expect, it } from 'vitest';
import { IndexMap, IndexSet } from '../../src/util/index-map.js';

describe('IndexMap', () => {
  it('gets, sets, deletes and counts like a Map, iterating in index order', () => {
    const map = new IndexMap<string>();
    map.set(5, 'five').set(0, 'zero').set(2, 'two');
    expect(map.size).toBe(3);
    expect(map.get(2)).toBe('two');
    expect(map.get(3)).toBeUndefined();
    expect(map.has(5)).toBe(true);
    expect(map.has(4)).toBe(false);
    expect([...map]).toEqual([
      [0, 'zero'],
      [2, 'two'],
      [5, 'five'],
    ]);
    map.set(2, 'TWO');
    expect(map.size).toBe(3);
    expect([...map.values()]).toEqual(['zero', 'TWO', 'five']);
    expect(map.delete(5)).toBe(true);
    expect(map.delete(5)).toBe(false);
    expect(map.delete(99)).toBe(false);
    expect([...map.keys()]).toEqual([0, 2]);
    expect(map.size).toBe(2);
    map.clear();
    expect(map.size).toBe(0);
    expect([...map]).toEqual([]);
  });

  it('refuses keys that are not agent indexes', () => {
    const map = new IndexMap<number>();
    expect(() => map.set(-1, 1)).toThrow(RangeError);
    expect(() => map.set(1.5, 1)).toThrow(RangeError);
    expect(() => map.set(Number.NaN, 1)).toThrow(RangeError);
  });

  it('holds far-apart keys (a shard of a big home)', () => {
    const map = new IndexMap<number>();
    map.set(3, 3).set(1_000_000, 1);
    expect(map.get(1_000_000)).toBe(1);
    expect([...map.keys()]).toEqual([3, 1_000_000]);
  });
});

describe('IndexSet', () => {
  it('adds, has, deletes and iterates in index order', () => {
    const set = new IndexSet();
    set.add(7).add(1).add(7);
    expect(set.size).toBe(2);
    expect(set.has(7)).toBe(true);
    expect([...set]).toEqual([1, 7]);
    expect(set.delete(7)).toBe(true);
    expect(set.has(7)).toBe(false);
    expect([...set.values()]).toEqual([1]);
  });
});
