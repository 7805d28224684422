/**
 * The relay's event store: SQLite through better-sqlite3 (WAL on a file, or `:memory:`), with the write
 * rules of store-write.ts and the filter SQL of store-query.ts. Synchronous by design: better-sqlite3 is
 * fastest when a batch of writes shares one transaction on the event loop thread.
 */
import Database from 'better-sqlite3';
import type { NostrEvent } from '../src/protocol/event.js';
import type { Filter } from '../src/protocol/filter.js';
import { isSearchable, rawEventId, serializeForStorage } from './event-meta.js';
import { countToSql, filterToSql, type QueryScope, type SqlQuery } from './store-query.js';
import { migrate } from './store-schema.js';
import { saveEvent, Writer, type SaveStatus } from './store-write.js';

export type { QueryScope } from './store-query.js';
export type { SaveStatus } from './store-write.js';

/** WAL pages (4 KiB) between automatic checkpoints: ~64 MiB of WAL at most between two. */
const WAL_CHECKPOINT_PAGES = 16_384;

/** A scope that sees everything that has not expired: for the operator and for tests. */
export function operatorScope(now = Math.floor(Date.now() / 1000)): QueryScope {
  return { now, privateKinds: [], readers: 'all' };
}

/** Events in a SQLite database. */
export class EventStore {
  /** The better-sqlite3 handle (for tests and EXPLAIN; write through the methods). */
  readonly db: Database.Database;
  private readonly writer: Writer;
  private readonly cache = new Map<string, Database.Statement>();
  private readonly saveMany: (items: ReadonlyArray<{ event: NostrEvent; raw: string }>) => SaveStatus[];

  /**
   * Opens (creating and migrating) the store at `file`; omitted or ':memory:' keeps it in memory.
   * `readonly` opens an existing file for reading only, without migrating or checkpointing: a second
   * reader next to a running relay (bench/relay's in-process REQ floor) that must not touch its WAL.
   */
  constructor(
    readonly file: string = ':memory:',
    private readonly options: { readonly?: boolean } = {},
  ) {
    this.db = new Database(file, options.readonly ? { readonly: true, fileMustExist: true } : {});
    this.db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      if (file !== ':memory:') {
        this.db.pragma('journal_mode = WAL');
        // Checkpoint every WAL_CHECKPOINT_PAGES instead of SQLite's 1000: index pages rewritten by many
        // batches are copied back (and fsynced) once per checkpoint, so rarer checkpoints cost less per event.
        this.db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
      }
      this.db.pragma('synchronous = NORMAL');
      migrate(this.db);
    }
    // On a read-only handle the Writer's statements are prepared but never run.
    this.writer = new Writer(this.db);
    this.saveMany = this.db.transaction((items: ReadonlyArray<{ event: NostrEvent; raw: string }>) =>
      items.map((it) => saveEvent(this.writer, it.event, it.raw)),
    );
  }

  /** Saves one verified event in its own transaction. */
  save(event: NostrEvent): SaveStatus {
    return this.saveBatch([{ event, raw: serializeForStorage(event) }])[0] ?? 'duplicate';
  }

  /** Saves verified events in one transaction, in order; `raw` is each event's stored JSON. */
  saveBatch(items: ReadonlyArray<{ event: NostrEvent; raw: string }>): SaveStatus[] {
    return this.saveMany(items);
  }

  /** True when an event with this id is stored. */
  has(id: string): boolean {
    return this.writer.exists.get(id) !== undefined;
  }

  /** The stored event with this id (expired or not), if any. */
  get(id: string): NostrEvent | undefined {
    const raw = this.getRaw(id);
    return raw === undefined ? undefined : (JSON.parse(raw) as NostrEvent);
  }

  /** The stored JSON of the event with this id, exactly as it is served, if any. */
  getRaw(id: string): string | undefined {
    const row = this.stmt('SELECT raw FROM events WHERE id = ?').get(id) as { raw: string } | undefined;
    return row?.raw;
  }

  /** Stored JSON of the events matching one filter, in NIP-01 order, at most `limit`. */
  queryRaw(filter: Filter, scope: QueryScope, limit?: number): string[] {
    const q = filterToSql(filter, scope, 'e.raw', limit ?? filter.limit);
    if (!q) return [];
    return (this.prepared(q).pluck().all(...q.params) as string[]);
  }

  /**
   * Stored JSON of the events matching any of the filters: each filter's results in order, every
   * event once (the first filter that matched it places it). `limitOf` caps a filter's rows
   * (default: the filter's own limit). One filter's rows are distinct already (events.id is
   * UNIQUE and tag filters are `IN (SELECT …)` subqueries, not joins), so it skips the id set.
   */
  queryRawDistinct(filters: readonly Filter[], scope: QueryScope, limitOf: (filter: Filter) => number | undefined = (f) => f.limit): string[] {
    if (filters.length === 1) return this.queryRaw(filters[0]!, scope, limitOf(filters[0]!));
    const seen = new Set<string>();
    const out: string[] = [];
    for (const filter of filters) {
      for (const raw of this.queryRaw(filter, scope, limitOf(filter))) {
        const id = rawEventId(raw);
        if (seen.has(id)) continue;
        seen.add(id);
        out.push(raw);
      }
    }
    return out;
  }

  /** Events matching any of the filters, de-duplicated, each filter's results in order. Default scope: everything. */
  query(filters: readonly Filter[], scope: QueryScope = operatorScope()): NostrEvent[] {
    return this.queryRawDistinct(filters, scope).map((raw) => JSON.parse(raw) as NostrEvent);
  }

  /** NIP-45: how many distinct events match any of the filters. */
  count(filters: readonly Filter[], scope: QueryScope = operatorScope()): number {
    const q = countToSql(filters, scope);
    if (!q) return 0;
    return (this.prepared(q).get(...q.params) as { n: number }).n;
  }

  /** EXPLAIN QUERY PLAN details for one filter's query (tests check that indexes are used). */
  explain(filter: Filter, scope: QueryScope = operatorScope(), limit?: number): string[] {
    const q = filterToSql(filter, scope, 'e.raw', limit ?? filter.limit);
    if (!q) return [];
    const rows = this.db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...q.params) as Array<{ detail: string }>;
    return rows.map((r) => r.detail);
  }

  /** Removes one event by id, bypassing NIP-09 (operator and test use). True when it was there. */
  deleteById(id: string): boolean {
    return this.db.transaction(() => {
      const row = this.writer.exists.get(id);
      if (row) this.writer.remove(row.seq);
      return row !== undefined;
    })();
  }

  /**
   * For tests that tamper with storage: overwrites the stored JSON (and search text) of the event with
   * `event.id`, without verifying anything, so clients receive exactly `event`. True when it was there.
   */
  replaceRawForTest(event: NostrEvent): boolean {
    return this.db.transaction(() => {
      const row = this.writer.exists.get(event.id);
      if (!row) return false;
      this.stmt('UPDATE events SET raw = ? WHERE seq = ?').run(serializeForStorage(event), row.seq);
      this.stmt('DELETE FROM events_fts WHERE rowid = ?').run(row.seq);
      if (isSearchable(event)) this.stmt('INSERT INTO events_fts (rowid, content) VALUES (?, ?)').run(row.seq, event.content);
      return true;
    })();
  }

  /** NIP-40: deletes events expired at `now` (unix seconds); returns how many. */
  purgeExpired(now: number): number {
    return this.db.transaction(() => {
      const rows = this.writer.expired.all(now);
      for (const row of rows) this.writer.remove(row.seq);
      return rows.length;
    })();
  }

  /** How many events are stored. */
  size(): number {
    return (this.stmt('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  }

  /** Checkpoints the WAL and closes the database; later calls do nothing. */
  close(): void {
    if (!this.db.open) return;
    if (this.file !== ':memory:' && !this.options.readonly) this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }

  private stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (this.cache.size > 500) this.cache.clear();
      this.cache.set(sql, s);
    }
    return s;
  }

  private prepared(q: SqlQuery): Database.Statement {
    return this.stmt(q.sql);
  }
}
