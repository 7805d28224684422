/** Property tests of filters: the schema gives a filter or issues for any JSON; the matcher agrees with NIP-01, never throws. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NostrEvent } from '../../src/protocol/event.js';
import { matchFilter, matchFilters, type Filter } from '../../src/protocol/filter.js';
import { FilterSchema } from '../../src/protocol/schema.js';

// Small alphabets so generated filters and events actually meet.
const hex = fc.constantFrom('a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64));
const letter = fc.constantFrom('e', 'p', 't', 'E');
const event = fc.record({
  id: hex,
  pubkey: hex,
  created_at: fc.integer({ min: 0, max: 20 }),
  kind: fc.integer({ min: 0, max: 4 }),
  tags: fc.array(fc.oneof(fc.tuple(letter, fc.constantFrom('x', 'y', 'a'.repeat(64))).map((t) => [...t]), fc.constant(['e']), fc.constant([] as string[])), { maxLength: 4 }),
  content: fc.string({ maxLength: 10 }),
  sig: fc.constant('0'.repeat(128)),
}) as fc.Arbitrary<NostrEvent>;
const filter = fc
  .record(
    {
      ids: fc.array(hex, { maxLength: 2 }),
      authors: fc.array(hex, { maxLength: 2 }),
      kinds: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 2 }),
      since: fc.integer({ min: 0, max: 20 }),
      until: fc.integer({ min: 0, max: 20 }),
      limit: fc.nat(5),
      '#e': fc.array(fc.constantFrom('x', 'y', 'a'.repeat(64)), { maxLength: 2 }),
      '#t': fc.array(fc.constantFrom('x', 'y'), { maxLength: 2 }),
    },
    { requiredKeys: [] },
  )
  .map((f) => f as Filter);

/** NIP-01, written out: every given condition holds; a tag condition needs a tag with that name and one of the values. */
function reference(f: Filter, e: NostrEvent): boolean {
  const tagsOk = Object.entries(f)
    .filter(([k]) => /^#[a-zA-Z]$/.test(k))
    .every(([k, values]) => e.tags.some((t) => t.length >= 2 && t[0] === k.slice(1) && (values as string[]).includes(t[1] as string)));
  return (!f.ids || f.ids.includes(e.id)) && (!f.authors || f.authors.includes(e.pubkey)) && (!f.kinds || f.kinds.includes(e.kind)) && (f.since === undefined || e.created_at >= f.since) && (f.until === undefined || e.created_at <= f.until) && tagsOk;
}

describe('filters: generated inputs', () => {
  it('matchFilter agrees with NIP-01 and matchFilters is their OR', () => {
    fc.assert(
      fc.property(fc.array(filter, { minLength: 1, maxLength: 3 }), event, (filters, e) => {
        for (const f of filters) expect(matchFilter(f, e)).toBe(reference(f, e));
        expect(matchFilters(filters, e)).toBe(filters.some((f) => reference(f, e)));
      }),
      { numRuns: 2500 },
    );
  });

  it('FilterSchema accepts what it should and names the field of anything else; the matcher takes whatever it accepts', () => {
    const anything = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.dictionary(fc.constantFrom('ids', 'authors', 'kinds', 'since', 'until', 'limit', 'search', '#e', '#pp', 'kind', '#', '#1'), fc.jsonValue({ maxDepth: 2 })));
    fc.assert(
      fc.property(anything, event, (value, e) => {
        const parsed = FilterSchema.safeParse(value);
        if (parsed.success) expect(typeof matchFilter(parsed.data, e)).toBe('boolean');
        else expect(parsed.error.issues.length).toBeGreaterThan(0);
      }),
      { numRuns: 1500 },
    );
    fc.assert(fc.property(filter, (f) => void expect(FilterSchema.safeParse(f).success).toBe(true)), { numRuns: 1000 });
  });
});
