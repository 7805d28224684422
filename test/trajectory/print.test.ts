import { describe, expect, it } from 'vitest';
import { clean, formatTick, formatVerifyReport, tickJsonLine, viewFromDecoded, viewFromRecord } from '../../src/trajectory/print.js';
import { verifyTrajectory } from '../../src/trajectory/verify.js';
import { echoRecord, keys, owner, relayView, runTicks } from './fixtures.js';

describe('print', () => {
  const { ticks, sessions } = runTicks(3);
  const events = relayView(ticks, sessions);

  it('shows a tick read from relays with trigger, timed steps and outcome', () => {
    const { ticks: read } = verifyTrajectory(events, { agentPubkey: keys.agent.publicKey, owner });
    const text = formatTick(viewFromDecoded(read[1]!));
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^#2 {2}2024-05-01 12:02:00Z {2}dm from npub1\S+ {2}"hello number 2" {2}ok {2}40ms {2}[0-9a-f]{12}$/);
    expect(lines[1]).toMatch(/^ +\+0ms +2ms {2}perceive nip17$/);
    expect(lines[3]).toContain('message  npub1');
    expect(lines[3]).toContain('text="echo: hello number 2"');
    expect(lines[5]).toBe('  tokens 0 in / 0 out · llm calls 0 · compute 40ms · sent 1 event');
  });

  it('shows a private tick without the key as locked, and JSON lines either way', () => {
    const { ticks: locked } = verifyTrajectory(events, { agentPubkey: keys.agent.publicKey });
    expect(formatTick(viewFromDecoded(locked[0]!))).toContain('(private: the owner key is needed to read it)');
    expect(JSON.parse(tickJsonLine(viewFromDecoded(locked[0]!)))).toEqual({ seq: 1, id: ticks[0]!.id, locked: true });
    const line = JSON.parse(tickJsonLine(viewFromRecord(echoRecord(4), 'ab'.repeat(32))));
    expect(line).toMatchObject({ seq: 4, id: 'ab'.repeat(32), outcome: 'ok', trigger: { type: 'dm', text: 'hello number 4' } });
  });

  it('escapes terminal control characters from untrusted text', () => {
    expect(clean('hi\u001b[31mred\nnext')).toBe('hi\\u001b[31mred⏎next');
    const record = echoRecord(1, undefined, 'evil \u001b]0;title\u0007');
    expect(formatTick(viewFromRecord(record))).not.toMatch(/[\u0000-\u0008\u001b]/);
  });

  it('prints verified: N ticks, or every break', () => {
    expect(formatVerifyReport(verifyTrajectory(events, { agentPubkey: keys.agent.publicKey, owner }).report)).toBe(
      `verified: 3 ticks (1 session; head ${ticks[2]!.id})`,
    );
    const broken = formatVerifyReport(verifyTrajectory(events.filter((e) => e.id !== ticks[1]!.id), { agentPubkey: keys.agent.publicKey, owner }).report);
    expect(broken.split('\n')[0]).toBe('trajectory broken: 2 problems in 2 ticks');
    expect(broken).toContain(`  seq 2 [missing] seq 2 is missing: tick seq 3 (${ticks[2]!.id}) follows tick ${ticks[1]!.id}, which was not found`);
  });
});
