/** Readiness from its inputs: every check named, and each way of being not ready. */
import { describe, expect, it } from 'vitest';
import { readiness, type ReadinessInputs } from '../../src/control/health.js';

const base: ReadinessInputs = {
  now: 1_000_000,
  database: { ok: true },
  agents: [{ name: 'a', relays: ['ws://r1', 'ws://r2'] }, { name: 'b', relays: ['ws://r2'] }],
  relayStates: new Map([['ws://r1', 'connected'], ['ws://r2', 'connected']]),
  wakeLoop: { running: true, lastPassAt: 990_000 },
  wakeLoopStaleMs: 90_000,
};

describe('readiness', () => {
  it('is ready when the database answers, every agent has a connected relay and the wake loop passed recently', () => {
    const r = readiness(base);
    expect(r.ready).toBe(true);
    expect(r.checks.relays.agents).toEqual([{ agent: 'a', relays: ['ws://r1', 'ws://r2'], connected: ['ws://r1', 'ws://r2'] }, { agent: 'b', relays: ['ws://r2'], connected: ['ws://r2'] }]);
    expect(r.checks.wakeLoop).toMatchObject({ ok: true, detail: 'last pass 10 s ago', lastPassAt: 990_000 });
  });

  it('names the agents left without a relay, even when another agent is fine', () => {
    const r = readiness({ ...base, relayStates: new Map([['ws://r1', 'connected'], ['ws://r2', 'disconnected']]) });
    expect(r.ready).toBe(false);
    expect(r.checks.relays).toMatchObject({ ok: false, detail: 'no relay connected for b' });
    expect(r.checks.database.ok && r.checks.wakeLoop.ok).toBe(true);
  });

  it('fails on a database error, a stopped loop, a loop that never ran, and a stale one', () => {
    expect(readiness({ ...base, database: { ok: false, error: 'disk I/O error' } }).checks.database).toEqual({ ok: false, detail: 'the database does not answer: disk I/O error' });
    expect(readiness({ ...base, wakeLoop: { running: false, lastPassAt: 999_000 } }).checks.wakeLoop).toMatchObject({ ok: false, detail: 'the wake loop is not running' });
    expect(readiness({ ...base, wakeLoop: { running: true } }).checks.wakeLoop).toMatchObject({ ok: false, detail: 'the wake loop has not run yet' });
    const stale = readiness({ ...base, wakeLoop: { running: true, lastPassAt: 800_000 } });
    expect(stale.ready).toBe(false);
    expect(stale.checks.wakeLoop).toMatchObject({ ok: false, detail: 'no pass for 200 s' });
  });

  it('is ready with no agents (nothing to reach)', () => {
    expect(readiness({ ...base, agents: [] }).ready).toBe(true);
  });
});
