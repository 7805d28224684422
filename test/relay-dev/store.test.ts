import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventStore, operatorScope } from '../../relay-dev/store.js';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { alice, bob, carol, sign, T0 } from './fixtures.js';

const stores: EventStore[] = [];
const dirs: string[] = [];
function open(file?: string): EventStore {
  const store = new EventStore(file);
  stores.push(store);
  return store;
}

beforeAll(async () => {
  await loadFastCrypto();
});
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('EventStore writes', () => {
  it('stores regular events once and reports duplicates', () => {
    const store = open();
    const e = sign(alice, { kind: 1, content: 'hi' });
    expect(store.save(e)).toBe('saved');
    expect(store.save(e)).toBe('duplicate');
    expect(store.get(e.id)).toEqual(e);
    expect(store.size()).toBe(1);
  });

  it('keeps only the newest replaceable event, ties to the lowest id, and never lets an older one win', () => {
    const store = open();
    const v1 = sign(alice, { kind: 0, created_at: T0, content: 'v1' });
    const v2 = sign(alice, { kind: 0, created_at: T0 + 10, content: 'v2' });
    expect(store.save(v1)).toBe('saved');
    expect(store.save(v2)).toBe('saved');
    expect(store.save(v1)).toBe('superseded');
    expect(store.query([{ kinds: [0], authors: [alice.pk] }]).map((e) => e.content)).toEqual(['v2']);
    const a = sign(alice, { kind: 10002, created_at: T0, content: 'a' });
    const b = sign(alice, { kind: 10002, created_at: T0, content: 'b' });
    const [low, high] = a.id < b.id ? [a, b] : [b, a];
    expect(store.save(high)).toBe('saved');
    expect(store.save(low)).toBe('saved');
    expect(store.save(high)).toBe('superseded');
    expect(store.query([{ kinds: [10002] }]).map((e) => e.id)).toEqual([low.id]);
    // Another author's replaceable event is separate.
    expect(store.save(sign(bob, { kind: 0, created_at: T0 - 5 }))).toBe('saved');
    expect(store.count([{ kinds: [0] }])).toBe(2);
  });

  it('keeps one addressable event per pubkey, kind and d tag', () => {
    const store = open();
    store.save(sign(alice, { kind: 30023, created_at: T0, tags: [['d', 'x']], content: 'x1' }));
    store.save(sign(alice, { kind: 30023, created_at: T0, tags: [['d', 'y']], content: 'y1' }));
    store.save(sign(alice, { kind: 30023, created_at: T0 + 1, tags: [['d', 'x']], content: 'x2' }));
    expect(store.save(sign(alice, { kind: 30023, created_at: T0 - 1, tags: [['d', 'x']], content: 'x0' }))).toBe('superseded');
    expect(store.query([{ kinds: [30023] }]).map((e) => e.content).sort()).toEqual(['x2', 'y1']);
  });

  it('applies NIP-09 deletions by the author only, keeps the request, and refuses the deleted event later', () => {
    const store = open();
    const note = sign(alice, { kind: 1, content: 'oops' });
    const other = sign(bob, { kind: 1, content: 'bob' });
    store.save(note);
    store.save(other);
    const request = sign(alice, { kind: 5, created_at: T0 + 1, tags: [['e', note.id], ['e', other.id], ['k', '1']] });
    expect(store.save(request)).toBe('saved');
    expect(store.has(note.id)).toBe(false);
    expect(store.has(other.id)).toBe(true);
    expect(store.has(request.id)).toBe(true);
    expect(store.save(note)).toBe('deleted');
    // A deletion of a deletion has no effect.
    expect(store.save(sign(alice, { kind: 5, created_at: T0 + 2, tags: [['e', request.id]] }))).toBe('saved');
    expect(store.has(request.id)).toBe(true);
  });

  it('deletes addressable versions named by an `a` tag up to the request time', () => {
    const store = open();
    const art = sign(alice, { kind: 30023, created_at: T0, tags: [['d', 'post']], content: 'v1' });
    store.save(art);
    store.save(sign(alice, { kind: 5, created_at: T0 + 5, tags: [['a', `30023:${alice.pk}:post`]] }));
    expect(store.has(art.id)).toBe(false);
    expect(store.save(sign(alice, { kind: 30023, created_at: T0 + 3, tags: [['d', 'post']], content: 'old' }))).toBe('deleted');
    expect(store.save(sign(alice, { kind: 30023, created_at: T0 + 9, tags: [['d', 'post']], content: 'new' }))).toBe('saved');
    // Someone else's `a` request does nothing.
    store.save(sign(bob, { kind: 5, created_at: T0 + 20, tags: [['a', `30023:${alice.pk}:post`]] }));
    expect(store.count([{ kinds: [30023] }])).toBe(1);
  });

  it('lets a gift wrap recipient delete their copy (NIP-09), and nobody else', () => {
    const store = open();
    const wrap = sign(carol, { kind: 1059, tags: [['p', bob.pk]], content: 'ciphertext' });
    store.save(wrap);
    store.save(sign(alice, { kind: 5, tags: [['e', wrap.id], ['k', '1059']] }));
    expect(store.has(wrap.id)).toBe(true);
    store.save(sign(bob, { kind: 5, tags: [['e', wrap.id], ['k', '1059']] }));
    expect(store.has(wrap.id)).toBe(false);
    expect(store.save(wrap)).toBe('deleted');
  });

  it('hides expired events and purges them (NIP-40)', () => {
    const store = open();
    const soon = sign(alice, { kind: 1, tags: [['expiration', String(T0 + 100)]] });
    store.save(soon);
    expect(store.query([{ ids: [soon.id] }], operatorScope(T0 + 99))).toHaveLength(1);
    expect(store.query([{ ids: [soon.id] }], operatorScope(T0 + 100))).toHaveLength(0);
    expect(store.purgeExpired(T0 + 99)).toBe(0);
    expect(store.purgeExpired(T0 + 100)).toBe(1);
    expect(store.has(soon.id)).toBe(false);
  });

  it('deleteById and replaceRawForTest change what is served', () => {
    const store = open();
    const e = sign(alice, { kind: 1, content: 'original words' });
    store.save(e);
    expect(store.replaceRawForTest({ ...e, content: 'tampered words' })).toBe(true);
    expect(store.get(e.id)?.content).toBe('tampered words');
    expect(store.query([{ search: 'tampered' }])).toHaveLength(1);
    expect(store.query([{ search: 'original' }])).toHaveLength(0);
    expect(store.deleteById(e.id)).toBe(true);
    expect(store.deleteById(e.id)).toBe(false);
    expect(store.replaceRawForTest(e)).toBe(false);
  });

  it('persists in a WAL file across reopen', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-store-'));
    dirs.push(dir);
    const file = join(dir, 'relay.db');
    const first = new EventStore(file);
    const e = sign(alice, { kind: 1, content: 'durable' });
    first.save(e);
    expect(first.db.pragma('journal_mode', { simple: true })).toBe('wal');
    first.close();
    first.close();
    const second = open(file);
    expect(second.get(e.id)).toEqual(e);
  });

  it('opens read-only beside a live writer: sees its commits, writes and checkpoints nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-store-'));
    dirs.push(dir);
    const file = join(dir, 'relay.db');
    const writer = open(file);
    const reader = new EventStore(file, { readonly: true });
    stores.push(reader);
    const e = sign(alice, { kind: 1, content: 'seen by a reader' });
    writer.save(e);
    expect(reader.queryRaw({ authors: [alice.pk], kinds: [1] }, operatorScope())).toEqual([writer.getRaw(e.id)]);
    expect(() => reader.save(sign(bob, { kind: 1, content: 'refused' }))).toThrow(/readonly/i);
    expect(() => new EventStore(join(dir, 'missing.db'), { readonly: true })).toThrow();
  });
});

describe('EventStore queries', () => {
  function seeded(): EventStore {
    const store = open();
    for (let i = 0; i < 10; i++) {
      store.save(sign(i % 2 ? alice : bob, { kind: i % 3 === 0 ? 7 : 1, created_at: T0 + i, tags: [['t', `tag${i % 2}`], ['p', carol.pk]], content: `note ${i}` }));
    }
    return store;
  }

  it('applies every filter field, inclusive since/until, and orders newest first with ties by id', () => {
    const store = seeded();
    const all = store.query([{}]);
    expect(all.map((e) => e.created_at)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map((i) => T0 + i));
    expect(store.query([{ since: T0 + 3, until: T0 + 5 }])).toHaveLength(3);
    expect(store.query([{ authors: [alice.pk] }]).every((e) => e.pubkey === alice.pk)).toBe(true);
    expect(store.query([{ kinds: [7] }])).toHaveLength(4);
    expect(store.query([{ '#t': ['tag1'] }])).toHaveLength(5);
    expect(store.query([{ '#t': ['tag1'], kinds: [1] }])).toHaveLength(3);
    expect(store.query([{ '#t': ['tag0', 'tag1'], '#p': [carol.pk] }])).toHaveLength(10);
    expect(store.query([{ '#t': [] }])).toHaveLength(0);
    const first = all[0]!;
    expect(store.query([{ ids: [first.id] }])).toEqual([first]);
    expect(store.query([{ ids: [first.id.slice(0, 10)] }]).map((e) => e.id)).toContain(first.id);
    expect(store.query([{ authors: [alice.pk.slice(0, 8)], limit: 2 }])).toHaveLength(2);
    const sameTime = [sign(carol, { kind: 1, created_at: T0 + 50, content: 'a' }), sign(carol, { kind: 1, created_at: T0 + 50, content: 'b' })];
    sameTime.forEach((e) => store.save(e));
    expect(store.query([{ limit: 2 }]).map((e) => e.id)).toEqual(sameTime.map((e) => e.id).sort());
  });

  it('ORs filters without duplicates and counts distinct matches', () => {
    const store = seeded();
    const events = store.query([{ kinds: [7] }, { '#t': ['tag0'] }]);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(store.count([{ kinds: [7] }, { '#t': ['tag0'] }])).toBe(events.length);
    expect(store.count([{ kinds: [7] }])).toBe(4);
  });

  it('serves the raw JSON of ORed filters each event once, in the first matching filter\'s place, each filter capped by limitOf', () => {
    const store = seeded();
    const kind7 = store.query([{ kinds: [7] }]).map((e) => e.id);
    const tag0 = store.query([{ '#t': ['tag0'] }]).map((e) => e.id);
    const raws = store.queryRawDistinct([{ kinds: [7] }, { '#t': ['tag0'] }], operatorScope());
    const ids = raws.map((raw) => (JSON.parse(raw) as { id: string }).id);
    expect(ids).toEqual([...kind7, ...tag0.filter((id) => !kind7.includes(id))]);
    expect(raws).toEqual(ids.map((id) => store.getRaw(id)));
    // Each filter keeps its own cap: 2 of kind 7, then 2 of tag0 (those already sent are skipped, not refilled).
    const capped = store.queryRawDistinct([{ kinds: [7] }, { '#t': ['tag0'] }], operatorScope(), () => 2);
    const tag0First2 = tag0.slice(0, 2);
    expect(capped.map((raw) => (JSON.parse(raw) as { id: string }).id)).toEqual([...kind7.slice(0, 2), ...tag0First2.filter((id) => !kind7.slice(0, 2).includes(id))]);
    expect(store.queryRawDistinct([{ kinds: [7] }], operatorScope(), () => 3)).toHaveLength(3);
  });

  it('searches content with FTS5, ignoring extensions, and never indexes ciphertext kinds', () => {
    const store = open();
    store.save(sign(alice, { kind: 1, content: 'The Quick brown fox' }));
    store.save(sign(alice, { kind: 1, content: 'a lazy dog' }));
    store.save(sign(alice, { kind: 4, tags: [['p', bob.pk]], content: 'quick secret' }));
    expect(store.query([{ search: 'quick' }]).map((e) => e.content)).toEqual(['The Quick brown fox']);
    expect(store.query([{ search: 'fox quick include:spam' }])).toHaveLength(1);
    expect(store.query([{ search: 'fox dog' }])).toHaveLength(0);
    expect(store.query([{ search: '"; DROP TABLE events; --' }])).toHaveLength(0);
    expect(store.query([{ search: '' }])).toHaveLength(0);
  });

  it('serves private kinds only to a reader named in their p tag', () => {
    const store = open();
    const toBob = sign(carol, { kind: 1059, tags: [['p', bob.pk]], content: 'x' });
    const toAlice = sign(carol, { kind: 4, tags: [['p', alice.pk]], content: 'y' });
    const note = sign(carol, { kind: 1, content: 'z' });
    [toBob, toAlice, note].forEach((e) => store.save(e));
    const scope = (readers: string[]) => ({ now: T0, privateKinds: [4, 1059], readers });
    expect(store.query([{}], scope([])).map((e) => e.id)).toEqual([note.id]);
    expect(store.query([{}], scope([bob.pk])).map((e) => e.id).sort()).toEqual([toBob.id, note.id].sort());
    expect(store.query([{ kinds: [1059, 4] }], scope([alice.pk])).map((e) => e.id)).toEqual([toAlice.id]);
    expect(store.count([{ kinds: [1059, 4] }], scope([alice.pk, bob.pk]))).toBe(2);
  });

  it('uses indexes for the common queries (EXPLAIN QUERY PLAN)', () => {
    const store = seeded();
    const plan = (f: Parameters<EventStore['explain']>[0]) => store.explain(f, operatorScope(T0), 50).join(' | ');
    expect(plan({ authors: [alice.pk], kinds: [1] })).toMatch(/USING INDEX events_by_author_kind/);
    expect(plan({ authors: [alice.pk], kinds: [1] })).not.toMatch(/TEMP B-TREE/);
    expect(plan({ authors: [alice.pk, bob.pk], kinds: [1] })).toMatch(/USING INDEX events_by_author_kind/);
    expect(plan({ authors: [alice.pk.slice(0, 9)] })).toMatch(/USING INDEX events_by_author_kind/);
    expect(plan({ kinds: [1] })).toMatch(/USING INDEX events_by_kind/);
    expect(plan({ kinds: [1059], '#p': [carol.pk], since: T0 })).toMatch(/^SEARCH e USING INTEGER PRIMARY KEY.*tags_by_value/);
    expect(plan({ ids: [alice.pk] })).toMatch(/USING INDEX sqlite_autoindex_events_1|USING INDEX .*\(id=\?\)/);
    expect(plan({ '#p': [carol.pk], kinds: [1059] })).toMatch(/tags_by_value/);
    expect(plan({})).toMatch(/USING INDEX events_by_time/);
    expect(plan({ search: 'note' })).toMatch(/VIRTUAL TABLE INDEX/);
    expect(plan({ '#p': [carol.pk] })).not.toMatch(/SCAN e\b(?! USING)/);
  });
});
