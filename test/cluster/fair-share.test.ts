import { describe, expect, it } from 'vitest';
import { fairShares, isLive } from '../../src/cluster/fair-share.js';

const shares = (agents: number, daemons: Array<{ id: string; capacity?: number }>): Record<string, number> => Object.fromEntries(fairShares(agents, daemons));

describe('fairShares', () => {
  it('splits evenly, the remainder to the first ids', () => {
    expect(shares(30, [{ id: 'c' }, { id: 'a' }, { id: 'b' }])).toEqual({ a: 10, b: 10, c: 10 });
    expect(shares(30, [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }])).toEqual({ a: 8, b: 8, c: 7, d: 7 });
    expect(shares(1, [{ id: 'a' }, { id: 'b' }])).toEqual({ a: 1, b: 0 });
    expect(shares(0, [{ id: 'a' }])).toEqual({ a: 0 });
  });

  it('gives a small capacity all it can take and splits the rest', () => {
    expect(shares(30, [{ id: 'a', capacity: 4 }, { id: 'b' }, { id: 'c' }])).toEqual({ a: 4, b: 13, c: 13 });
    expect(shares(30, [{ id: 'a', capacity: 20 }, { id: 'b' }])).toEqual({ a: 15, b: 15 });
    expect(shares(30, [{ id: 'a', capacity: 5 }, { id: 'b', capacity: 5 }])).toEqual({ a: 5, b: 5 });
  });

  it('never exceeds a capacity and never hands out more than there are agents', () => {
    for (let agents = 0; agents < 40; agents++) {
      const daemons = [{ id: 'a', capacity: 3 }, { id: 'b', capacity: 11 }, { id: 'c' }, { id: 'd', capacity: 0 }];
      const t = fairShares(agents, daemons);
      const total = [...t.values()].reduce((x, y) => x + y, 0);
      expect(total).toBe(agents);
      for (const d of daemons) expect(t.get(d.id)!).toBeLessThanOrEqual(d.capacity ?? Infinity);
    }
  });

  it('counts a daemon while its heartbeat is younger than its lease and it is not stopping', () => {
    expect(isLive({ heartbeatAt: 1000, leaseMs: 500, stopping: false }, 1499)).toBe(true);
    expect(isLive({ heartbeatAt: 1000, leaseMs: 500, stopping: false }, 1500)).toBe(false);
    expect(isLive({ heartbeatAt: 1000, leaseMs: 500, stopping: true }, 1001)).toBe(false);
  });
});
