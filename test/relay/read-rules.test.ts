/** ReadRules: how a subscription's filters are cut into REQs by what a relay restricts (pure). */
import { describe, expect, it } from 'vitest';
import { ReadRules } from '../../src/relay/read-rules.js';

const p = ['a'.repeat(64)];

describe('ReadRules.split', () => {
  it('puts kinds 4 and 1059 in a REQ of their own, cutting a filter that names both kinds of kind', () => {
    const rules = new ReadRules();
    expect(rules.split([{ kinds: [1059], '#p': p }, { kinds: [4, 1], '#p': p, since: 5, limit: 10 }, { ids: ['b'.repeat(64)] }])).toEqual([
      { gated: false, filters: [{ kinds: [1], '#p': p, since: 5, limit: 10 }, { ids: ['b'.repeat(64)] }] },
      { gated: true, filters: [{ kinds: [1059], '#p': p }, { kinds: [4], '#p': p, since: 5, limit: 10 }] },
    ]);
    expect(rules.split([{ kinds: [1] }])).toEqual([{ gated: false, filters: [{ kinds: [1] }] }]);
    expect(rules.split([])).toEqual([]);
  });

  it('adds the kinds a NIP-11 document lists, and gates everything when the relay wants AUTH for all', () => {
    const rules = new ReadRules();
    expect(rules.readsNeedAuth).toBe(false);
    rules.learnInfo({ limitation: { restricted_read_kinds: [9230] } });
    expect(rules.readsNeedAuth).toBe(true);
    expect(rules.split([{ kinds: [9230, 1] }]).map((x) => [x.gated, x.filters[0]!.kinds])).toEqual([[false, [1]], [true, [9230]]]);
    rules.learnInfo({ limitation: { auth_required: true } });
    expect([rules.allNeedAuth, rules.writesNeedAuth]).toEqual([true, true]);
    expect(rules.split([{ kinds: [1] }, { kinds: [4] }])).toEqual([{ gated: true, filters: [{ kinds: [1] }, { kinds: [4] }] }]);
  });

  it('learns from refusals: a REQ of public kinds refused auth-required means every read needs AUTH', () => {
    const rules = new ReadRules();
    rules.learnRefusedRead(true);
    expect([rules.readsNeedAuth, rules.allNeedAuth]).toEqual([true, false]);
    rules.learnRefusedRead(false);
    expect(rules.allNeedAuth).toBe(true);
  });
});
