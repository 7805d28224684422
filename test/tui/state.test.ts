/** The UI's pure rules: conversation order and finality, activity from runtime events, budget bars, safe text. */
import { describe, expect, it } from 'vitest';
import { applyEvent, TICKS_KEPT, withTicks, type ActivityMap } from '../../src/tui/activity.js';
import { budgetBars, meter, normalizeLimits, percent } from '../../src/tui/budget-bars.js';
import { EMPTY_CONVERSATION, splitFinished, withFailed, withHistory, withIncoming, withRead, withSending, withSent } from '../../src/tui/conversation.js';
import { duration, oneLine, safeText } from '../../src/tui/text.js';
import { agentSummary, OWNER, tickRecord } from './helpers.js';

const agent = agentSummary('assistant', 0);

describe('conversation', () => {
  it('keeps nothing final until history is merged, then history first (sorted), then what arrived meanwhile', () => {
    let c = withIncoming(EMPTY_CONVERSATION, { id: 'r1', from: 'agent', text: 'early reply', at: 50 }, true);
    expect(splitFinished(c)).toEqual({ finished: [], live: c.messages });
    c = withHistory(c, [
      { id: 'h2', from: 'agent', text: 'b', at: 20 },
      { id: 'h1', from: 'owner', text: 'a', at: 10 },
      { id: 'r1', from: 'agent', text: 'early reply', at: 50 },
    ]);
    expect(c.messages.map((m) => m.id)).toEqual(['h1', 'h2', 'r1']);
    expect(splitFinished(c).live).toEqual([]);
  });

  it('holds everything from the first message still sending in the live tail, and drops an echo of a sent message', () => {
    let c = withHistory(EMPTY_CONVERSATION, []);
    c = withSending(c, 'local:1', 'hello', 100);
    c = withIncoming(c, { id: 'rumor-1', from: 'owner', text: 'hello', at: 100 }, true); // the relays echo the owner's copy
    c = withIncoming(c, { id: 'r1', from: 'agent', text: 'hi', at: 101 }, true);
    expect(splitFinished(c).finished).toEqual([]);
    expect(splitFinished(c).live.map((m) => m.id)).toEqual(['local:1', 'rumor-1', 'r1']);
    c = withSent(c, 'local:1', 'rumor-1');
    expect(c.messages.map((m) => [m.id, m.status])).toEqual([
      ['rumor-1', 'sent'],
      ['r1', undefined],
    ]);
    expect(splitFinished(c).live).toEqual([]);
    expect(withIncoming(c, { id: 'r1', from: 'agent', text: 'hi', at: 101 }, true)).toBe(c);
  });

  it('marks failures with the reason and counts unread agent messages only when not selected', () => {
    let c = withSending(withHistory(EMPTY_CONVERSATION, []), 'local:1', 'x', 1);
    c = withFailed(c, 'local:1', 'no relay accepted');
    expect(c.messages[0]).toMatchObject({ status: 'failed', error: 'no relay accepted' });
    expect(splitFinished(c).finished).toHaveLength(1);
    c = withIncoming(c, { id: 'a', from: 'agent', text: '1', at: 2 }, false);
    c = withIncoming(c, { id: 'b', from: 'owner', text: '2', at: 3 }, false);
    c = withIncoming(c, { id: 'c', from: 'agent', text: '3', at: 4 }, true);
    expect(c.unread).toBe(1);
    expect(withRead(c).unread).toBe(0);
    expect(withRead(withRead(c))).toEqual(withRead(c));
  });
});

describe('activity', () => {
  it('follows a tick from start through steps to its record, and keeps the latest ticks', () => {
    const at = 1000;
    let map: ActivityMap = {};
    map = applyEvent(map, { type: 'tick.started', agent: agent.publicKey, at, trigger: { type: 'dm', from: OWNER, at } });
    expect(map[agent.publicKey]?.busy).toEqual({ since: at, trigger: 'dm' });
    map = applyEvent(map, { type: 'tick.step', agent: agent.publicKey, at, step: { type: 'think', at, ms: 5 } });
    expect(map[agent.publicKey]?.busy?.step?.type).toBe('think');
    const record = tickRecord(agent, 1, 'hi');
    map = applyEvent(map, { type: 'tick.finished', agent: agent.publicKey, at, record });
    expect(map[agent.publicKey]).toMatchObject({ busy: undefined, lastTickAt: record.endedAt, ticks: [record] });
    const same = applyEvent(map, { type: 'agent.woke', agent: agent.publicKey, at });
    expect(same).toBe(map);
    map = withTicks(map, agent.publicKey, Array.from({ length: 60 }, (_, i) => tickRecord(agent, i + 1, `t${i}`)));
    expect(map[agent.publicKey]?.ticks).toHaveLength(TICKS_KEPT);
    expect(map[agent.publicKey]?.ticks.at(-1)?.seq).toBe(60);
  });

  it('turns retries, budget and refusals into a notice', () => {
    const key = agent.publicKey;
    const at = 5;
    expect(applyEvent({}, { type: 'tick.retry', agent: key, at, attempt: 2, delayMs: 4000, error: 'boom' })[key]?.notice?.text).toBe('tick failed, retry 2 in 4.0s: boom');
    expect(applyEvent({}, { type: 'budget.exhausted', agent: key, at, resource: 'tokens', used: 10, limit: 10 })[key]?.notice?.text).toMatch(/used up for today/);
    expect(applyEvent({}, { type: 'inbound.refused', agent: key, at, reason: 'rate-limited' })[key]?.notice?.text).toBe('refused a message: rate-limited');
    expect(applyEvent({}, { type: 'agent.state', agent: key, at, from: 'active', to: 'failed', reason: '3 failed ticks' })[key]?.notice?.text).toMatch(/failed: 3 failed ticks.*agent recover/);
  });
});

describe('budget bars', () => {
  it('reads limits keyed by metric or as the agent config writes them, with the runtime defaults', () => {
    expect(normalizeLimits({ computeMs: 1000 })).toEqual({ computeMs: 1000, llmCalls: undefined, tokens: undefined, sats: undefined });
    expect(normalizeLimits({ dailyComputeSeconds: 10, dailySats: 5 })).toEqual({ computeMs: 10_000, llmCalls: 500, tokens: 1_000_000, sats: 5 });
    expect(normalizeLimits({})).toEqual({ computeMs: 3_600_000, llmCalls: 500, tokens: 1_000_000, sats: undefined });
    expect(normalizeLimits({ dailyLlmCalls: -1 })).toEqual({ computeMs: undefined, llmCalls: undefined, tokens: undefined, sats: undefined });
    const bars = budgetBars({ computeMs: 900, llmCalls: 0, tokens: 2000, sats: 0, limits: { computeMs: 1000, tokens: 1000 } });
    expect(bars).toEqual([
      { label: 'compute', used: 900, limit: 1000, ratio: 0.9 },
      { label: 'tokens', used: 2000, limit: 1000, ratio: 1 },
    ]);
    expect(budgetBars(undefined)).toEqual([]);
  });

  it('draws meters and percentages a person can read', () => {
    expect(meter(0, 5)).toBe('░░░░░');
    expect(meter(0.001, 5)).toBe('█░░░░');
    expect(meter(0.5, 4)).toBe('██░░');
    expect(meter(2, 3)).toBe('███');
    expect([percent(0), percent(0.004), percent(0.8), percent(1)]).toEqual(['0%', '<1%', '80%', '100%']);
  });
});

describe('text from the network', () => {
  it('drops escape sequences and control characters, keeps newlines', () => {
    expect(safeText('a\u001b[2J\u001b[31mred\u001b[0m\u0007 b\u001b]0;title\u0007c\r\nd\te')).toBe('ared bc\nd  e');
    expect(oneLine('line one\nline two', 12)).toBe('line one ⏎ …');
    expect([duration(850), duration(2400), duration(185_000)]).toEqual(['850ms', '2.4s', '3m 05s']);
  });
});
