import { beforeEach, expect, it } from 'vitest';
import { describeEngines } from './engines.js';
import type { AgentStorage } from '../../../src/storage/types.js';
import { searchTerms } from '../../../src/storage/sqlite/fact-store.js';
import { ManualClock } from '../../../src/util/clock.js';

const pk = (n: number): string => n.toString(16).padStart(64, '0');

describeEngines('facts: full-text recall (FTS5 on SQLite, tsvector on Postgres)', (fx) => {
  let storage: AgentStorage;
  beforeEach(async () => {
    storage = await fx.open({ clock: new ManualClock() });
    await storage.agents.create({ name: 'a', behavior: 'assistant', pubkey: pk(1), now: 0 });
    await storage.agents.create({ name: 'b', behavior: 'assistant', pubkey: pk(2), now: 0 });
  });

  it('ranks best first (bm25 on FTS5, ts_rank on Postgres): more matching terms first, stemming and diacritics folded', async () => {
    const f = storage.facts(0);
    // Filler so term frequencies are realistic for bm25's IDF.
    for (let i = 0; i < 20; i++) await f.add(`filler note number ${i} about the weather`);
    const both = await f.add('Alice prefers green tea in the morning');
    const one = await f.add('Bob drinks tea at night');
    const tagged = await f.add('something about cups', { tags: ['tea', 'kitchen'] });
    await f.add('Completely unrelated');
    const hits = await f.search('green tea');
    expect(hits[0]?.id).toBe(both.id);
    expect(hits.map((h) => h.id)).toEqual(expect.arrayContaining([both.id, one.id, tagged.id]));
    expect(hits).toHaveLength(3);
    expect(hits[0]!.rank).toBeLessThan(hits[1]!.rank);
    expect((await f.search('mornings'))[0]?.id).toBe(both.id); // porter: mornings → morning
    expect((await f.add('Café in Zürich')).text).toBe('Café in Zürich');
    expect(await f.search('cafe zurich')).toHaveLength(1); // diacritics folded
    expect(await f.search('tea', 1)).toHaveLength(1);
    expect(await f.get(both.id)).toEqual(both);
    expect((await f.list({ limit: 2 })).map((x) => x.text)).toEqual(['Café in Zürich', 'Completely unrelated']);
  });

  it('is safe against FTS syntax in user words and scoped per agent', async () => {
    const a = storage.facts(0);
    const b = storage.facts(1);
    await a.add('the launch code is swordfish');
    await b.add('b also knows about swordfish');
    expect((await a.search('swordfish')).map((h) => h.text)).toEqual(['the launch code is swordfish']);
    expect((await b.search('swordfish')).map((h) => h.text)).toEqual(['b also knows about swordfish']);
    for (const hostile of ['"', 'swordfish" OR "b', 'NEAR(', '*', 'agent_tag : a1', '{text}: x', 'AND OR NOT', '']) {
      await expect(a.search(hostile)).resolves.toBeDefined();
      expect((await a.search(hostile)).every((h) => h.text.startsWith('the launch'))).toBe(true);
    }
    expect(searchTerms('Hello, WORLD! hello 42')).toEqual(['hello', 'world', '42']);
    expect(await b.forgetId((await a.list())[0]!.id)).toBe(false);
  });

  it('forgets only facts containing all the words, and reports the count', async () => {
    const f = storage.facts(0);
    await f.add('my cat is called Tom');
    await f.add('my cat likes fish');
    await f.add('my dog is called Rex');
    await storage.facts(1).add('my cat is called Felix');
    expect(await f.forget('')).toBe(0);
    expect(await f.forget('cat called')).toBe(1);
    expect((await f.list()).map((x) => x.text).sort()).toEqual(['my cat likes fish', 'my dog is called Rex']);
    expect(await f.search('tom')).toEqual([]);
    expect(await f.forget('cats')).toBe(1);
    expect(await storage.facts(1).search('cat')).toHaveLength(1);
    const before = await storage.budget.storageBytes(0);
    const id = (await f.list())[0]!.id;
    expect(await f.forgetId(id)).toBe(true);
    expect(await storage.budget.storageBytes(0)).toBeLessThan(before);
    expect(await storage.budget.storageBytes(0)).toBe(0);
  });

  it('rejects empty and oversized facts with a clear error', async () => {
    const f = storage.facts(0);
    await expect(f.add('   ')).rejects.toThrow(/must not be empty/);
    await expect(f.add('x'.repeat(9000))).rejects.toThrow(/limit is 8192/);
  });
});
