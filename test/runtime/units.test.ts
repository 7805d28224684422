import { describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/behaviors/define-agent.js';
import { verifyEvent } from '../../src/protocol/crypto.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import { parseAgentConfig } from '../../src/runtime/agent-config.js';
import { nextUtcMidnight, thresholdsReached, utcDay } from '../../src/runtime/budget.js';
import { formatDuration, parseDuration } from '../../src/runtime/duration.js';
import { canTransition } from '../../src/runtime/lifecycle.js';
import { protocolOutboundBuilder, systemEntropy } from '../../src/runtime/outbound.js';
import { parseOwnerCommand } from '../../src/runtime/policy.js';
import { RateLimiter } from '../../src/runtime/rate-limit.js';
import { accountSigner, stranger } from './helpers.js';

describe('durations', () => {
  it('reads the forms people type and refuses the rest with a reason', () => {
    expect(parseDuration('3s')).toBe(3000);
    expect(parseDuration('10 seconds')).toBe(10_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('2 hours')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1 hour and 30 minutes')).toBe(5_400_000);
    expect(parseDuration('an hour')).toBe(3_600_000);
    expect(() => parseDuration('soon')).toThrow(/cannot read duration "soon"/);
    expect(() => parseDuration('5 parsecs')).toThrow(/unknown duration unit in "5 parsecs"/);
    expect(() => parseDuration('0s')).toThrow(/more than zero/);
    expect(formatDuration(5_400_000)).toBe('1h 30m');
    expect(formatDuration(10_000)).toBe('10s');
  });
});

describe('rate limiter', () => {
  it('allows a burst of `capacity`, refills over the window, notifies once per window, and forgets idle buckets', () => {
    const rl = new RateLimiter({ maxKeys: 3 });
    const cfg = { capacity: 2, windowMs: 60_000 };
    expect(rl.take('a', cfg, 0)).toEqual({ allowed: true });
    expect(rl.take('a', cfg, 0)).toEqual({ allowed: true });
    expect(rl.take('a', cfg, 0)).toMatchObject({ allowed: false, notify: true, retryAfterMs: 30_000 });
    expect(rl.take('a', cfg, 1000)).toMatchObject({ allowed: false, notify: false });
    expect(rl.take('a', cfg, 30_000)).toEqual({ allowed: true });
    for (const k of ['b', 'c', 'd', 'e']) rl.take(k, cfg, 200_000);
    expect(rl.size).toBeLessThanOrEqual(3);
  });
});

describe('agent config, lifecycle, owner commands, budget math', () => {
  it('applies defaults and names the bad field', () => {
    const c = parseAgentConfig({ behavior: 'echo' });
    expect(c).toMatchObject({ allowlist: [], rateLimit: { capacity: 10, windowMs: 60_000 }, budget: { maxTickMs: 30_000, dailyComputeSeconds: 3600 }, watch: [] });
    expect(() => parseAgentConfig({ behavior: 'echo', budget: { maxTickMs: -1 } }, 'a1')).toThrow(/a1: invalid config[\s\S]*budget\.maxTickMs/);
    expect(() => parseAgentConfig('{nope', 'a2')).toThrow(/a2: config is not valid JSON/);
    expect(() => parseAgentConfig({ behavior: 'echo', allowlist: ['npub1x'] })).toThrow(/allowlist/);
  });

  it('allows exactly the lifecycle of the product brief', () => {
    expect(canTransition('creating', 'active')).toBe(true);
    expect(canTransition('active', 'dormant') && canTransition('dormant', 'active')).toBe(true);
    expect(canTransition('active', 'failed') && canTransition('failed', 'active')).toBe(true);
    expect(canTransition('dormant', 'failed')).toBe(false);
    for (const s of ['creating', 'active', 'dormant', 'paused', 'failed'] as const) expect(canTransition(s, 'terminated')).toBe(true);
    expect(canTransition('terminated', 'active')).toBe(false);
  });

  it('parses owner commands strictly', () => {
    expect(parseOwnerCommand(' /PAUSE ')).toBe('pause');
    expect(parseOwnerCommand('/budget')).toBe('budget');
    expect(parseOwnerCommand('/pause now')).toBeUndefined();
    expect(parseOwnerCommand('pause')).toBeUndefined();
    expect(parseOwnerCommand('/shutdown')).toBeUndefined();
  });

  it('computes UTC windows and thresholds', () => {
    expect(utcDay(Date.UTC(2024, 0, 1, 23, 59))).toBe('2024-01-01');
    expect(nextUtcMidnight(Date.UTC(2024, 0, 1, 23, 59))).toBe(Date.UTC(2024, 0, 2));
    const limits = { computeMs: 1000, llmCalls: undefined, tokens: 100, sats: undefined };
    expect(thresholdsReached({ computeMs: 850, llmCalls: 9, tokens: 100, sats: 0 }, limits).map((m) => `${m.metric}:${m.level}`)).toEqual(['computeMs:80', 'tokens:80', 'tokens:100']);
  });
});

describe('defineAgent', () => {
  it('checks the definition at load time', () => {
    expect(defineAgent({ name: 'ok', about: 'fine', onMessage: () => {} }).name).toBe('ok');
    expect(() => defineAgent({ name: 'bad name', about: 'x' })).toThrow(/name must be/);
    expect(() => defineAgent({ name: 'x', about: '' })).toThrow(/about must say/);
    expect(() => defineAgent({ name: 'x', about: 'y', onMesage: () => {} } as never)).toThrow(/unknown field "onMesage"/);
    expect(() => defineAgent({ name: 'x', about: 'y', onAlarm: 'no' } as never)).toThrow(/onAlarm must be a function/);
  });
});

describe('default outbound builder', () => {
  it('builds verifiable NIP-17 wraps (recipient + self), a kind 1 note, and NIP-04 replies', () => {
    const agent = accountSigner(1);
    const bob = stranger(0xb2);
    const dm = protocolOutboundBuilder.build({ type: 'dm', recipient: bob.getPublicKey(), text: 'hi bob' }, agent, systemEntropy(1_700_000_000));
    expect(dm.map((o) => o.target)).toEqual([{ type: 'dm', recipient: bob.getPublicKey() }, { type: 'own' }]);
    expect(dm.every((o) => verifyEvent(o.event))).toBe(true);
    const opened = unwrapGift(dm[0]!.event, bob);
    expect(opened.ok && opened.rumor.content).toBe('hi bob');
    const self = unwrapGift(dm[1]!.event, agent);
    expect(self.ok && self.rumor.tags).toEqual([['p', bob.getPublicKey()]]);
    const note = protocolOutboundBuilder.build({ type: 'note', text: 'gm' }, agent, systemEntropy(1_700_000_000));
    expect(note[0]!.event).toMatchObject({ kind: 1, content: 'gm', created_at: 1_700_000_000, pubkey: agent.getPublicKey() });
    expect(verifyEvent(note[0]!.event)).toBe(true);
  });
});
