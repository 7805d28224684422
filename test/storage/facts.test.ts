import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';
import { searchTerms } from '../../src/storage/sqlite/fact-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { tempDbs } from './helpers.js';

const pk = (n: number): string => n.toString(16).padStart(64, '0');

describe('facts with FTS5', () => {
  let dbs: ReturnType<typeof tempDbs>;
  let storage: SqliteAgentStorage;
  beforeEach(() => {
    dbs = tempDbs();
    storage = SqliteAgentStorage.open(join(dbs.dir, 'agents.db'), { clock: new ManualClock() });
    storage.agents.create({ name: 'a', behavior: 'assistant', pubkey: pk(1), now: 0 });
    storage.agents.create({ name: 'b', behavior: 'assistant', pubkey: pk(2), now: 0 });
  });
  afterEach(() => {
    storage.close();
    dbs.cleanup();
  });

  it('ranks by bm25: more and rarer matching terms first, stemming and diacritics folded', () => {
    const f = storage.facts(0);
    // Filler so term frequencies are realistic for bm25's IDF.
    for (let i = 0; i < 20; i++) f.add(`filler note number ${i} about the weather`);
    const both = f.add('Alice prefers green tea in the morning');
    const one = f.add('Bob drinks tea at night');
    const tagged = f.add('something about cups', { tags: ['tea', 'kitchen'] });
    f.add('Completely unrelated');
    const hits = f.search('green tea');
    expect(hits[0]?.id).toBe(both.id);
    expect(hits.map((h) => h.id)).toEqual(expect.arrayContaining([both.id, one.id, tagged.id]));
    expect(hits).toHaveLength(3);
    expect(hits[0]!.rank).toBeLessThan(hits[1]!.rank);
    expect(f.search('mornings')[0]?.id).toBe(both.id); // porter: mornings → morning
    expect(f.add('Café in Zürich').text).toBe('Café in Zürich');
    expect(f.search('cafe zurich')).toHaveLength(1); // diacritics folded
    expect(f.search('tea', 1)).toHaveLength(1);
    expect(f.get(both.id)).toEqual(both);
    expect(f.list({ limit: 2 }).map((x) => x.text)).toEqual(['Café in Zürich', 'Completely unrelated']);
  });

  it('is safe against FTS syntax in user words and scoped per agent', () => {
    const a = storage.facts(0);
    const b = storage.facts(1);
    a.add('the launch code is swordfish');
    b.add('b also knows about swordfish');
    expect(a.search('swordfish').map((h) => h.text)).toEqual(['the launch code is swordfish']);
    expect(b.search('swordfish').map((h) => h.text)).toEqual(['b also knows about swordfish']);
    for (const hostile of ['"', 'swordfish" OR "b', 'NEAR(', '*', 'agent_tag : a1', '{text}: x', 'AND OR NOT', '']) {
      expect(() => a.search(hostile)).not.toThrow();
      expect(a.search(hostile).every((h) => h.text.startsWith('the launch'))).toBe(true);
    }
    expect(searchTerms('Hello, WORLD! hello 42')).toEqual(['hello', 'world', '42']);
    expect(b.forgetId(a.list()[0]!.id)).toBe(false);
  });

  it('forgets only facts containing all the words, and reports the count', () => {
    const f = storage.facts(0);
    f.add('my cat is called Tom');
    f.add('my cat likes fish');
    f.add('my dog is called Rex');
    storage.facts(1).add('my cat is called Felix');
    expect(f.forget('')).toBe(0);
    expect(f.forget('cat called')).toBe(1);
    expect(f.list().map((x) => x.text).sort()).toEqual(['my cat likes fish', 'my dog is called Rex']);
    expect(f.search('tom')).toEqual([]);
    expect(f.forget('cats')).toBe(1);
    expect(storage.facts(1).search('cat')).toHaveLength(1);
    const before = storage.budget.storageBytes(0);
    const id = f.list()[0]!.id;
    expect(f.forgetId(id)).toBe(true);
    expect(storage.budget.storageBytes(0)).toBeLessThan(before);
    expect(storage.budget.storageBytes(0)).toBe(0);
  });

  it('rejects empty and oversized facts with a clear error', () => {
    const f = storage.facts(0);
    expect(() => f.add('   ')).toThrow(/must not be empty/);
    expect(() => f.add('x'.repeat(9000))).toThrow(/limit is 8192/);
  });
});
