/**
 * NIP-01 filters as SQL over the events table and its indexes. Each filter becomes one SELECT, newest first
 * with ties by lowest id (a NIP-50 search orders by FTS rank instead); several filters are OR'd by the caller.
 */
import { tagFilters, type Filter } from '../src/protocol/filter.js';
import { ftsExpression, searchTerms } from './search.js';

/** Who is asking, for NIP-40 expiration and private kinds. */
export interface QueryScope {
  /** Unix seconds; events whose expiration is at or before it are left out. */
  now: number;
  /** Kinds served only to a reader named in their `p` tag (by default 4 and 1059). */
  privateKinds: readonly number[];
  /** Authenticated readers of private kinds; 'all' lifts the restriction (the operator, tests). */
  readers: readonly string[] | 'all';
}

/** A statement and its parameters. */
export interface SqlQuery {
  sql: string;
  params: Array<string | number>;
}

/** Lists longer than this travel as one JSON parameter (SQLite caps bound parameters). */
const INLINE_LIST = 100;

class Where {
  readonly parts: string[] = [];
  readonly params: Array<string | number> = [];

  add(sql: string, ...params: Array<string | number>): void {
    this.parts.push(sql);
    this.params.push(...params);
  }

  /** `column IN (…)` as SQL text plus its parameters (not yet added). */
  static inList(column: string, values: ReadonlyArray<string | number>): SqlQuery {
    if (values.length > INLINE_LIST) return { sql: `${column} IN (SELECT value FROM json_each(?))`, params: [JSON.stringify(values)] };
    return { sql: `${column} IN (${values.map(() => '?').join(', ')})`, params: [...values] };
  }

  addIn(column: string, values: ReadonlyArray<string | number>): void {
    const q = Where.inList(column, values);
    this.add(q.sql, ...q.params);
  }

  /** Hex values: full 64-char ones match exactly, shorter ones as prefixes (a range, so the index serves). */
  addHex(column: string, values: readonly string[]): void {
    const exact = values.filter((v) => v.length === 64);
    const prefixes = values.filter((v) => v.length < 64);
    const ors: SqlQuery[] = [];
    if (exact.length > 0) ors.push(Where.inList(column, exact));
    for (const prefix of prefixes) ors.push({ sql: `(${column} >= ? AND ${column} < ?)`, params: [prefix, `${prefix}g`] });
    this.add(`(${ors.map((q) => q.sql).join(' OR ')})`, ...ors.flatMap((q) => q.params));
  }
}

/** The restriction that hides private kinds from whoever may not read them, or nothing. */
function privacy(where: Where, filter: Filter, scope: QueryScope): void {
  if (scope.readers === 'all' || scope.privateKinds.length === 0) return;
  if (filter.kinds && !filter.kinds.some((k) => scope.privateKinds.includes(k))) return;
  const kinds = Where.inList('+e.kind', scope.privateKinds);
  if (scope.readers.length === 0) {
    where.add(`NOT ${kinds.sql}`, ...kinds.params);
    return;
  }
  const readers = Where.inList('r.value', scope.readers);
  where.add(
    `(NOT ${kinds.sql} OR +e.seq IN (SELECT r.seq FROM tags r WHERE r.name = 'p' AND ${readers.sql}))`,
    ...kinds.params,
    ...readers.params,
  );
}

/** Which index drives a filter's query: the most selective field present, like strfry's planner. */
type Driver = 'ids' | 'authors' | 'tags' | 'kinds' | 'time' | 'search';

function driverOf(filter: Filter): Driver {
  if (filter.search !== undefined) return 'search';
  if (filter.ids) return 'ids';
  if (filter.authors) return 'authors';
  if (tagFilters(filter).length > 0) return 'tags';
  if (filter.kinds) return 'kinds';
  return 'time';
}

/**
 * One filter as a SELECT of `columns` (from alias `e`), or undefined when it cannot match anything
 * (an empty list, `limit: 0`, a search with no words). `limit` undefined means no LIMIT clause.
 * Columns outside the chosen driver get SQLite's unary `+`, which keeps the planner off their indexes:
 * without statistics it otherwise likes to walk a kind or time index across the whole table.
 */
export function filterToSql(
  filter: Filter,
  scope: QueryScope,
  columns: string,
  limit?: number,
  ordered = true,
): SqlQuery | undefined {
  if (limit === 0) return undefined;
  for (const list of [filter.ids, filter.authors, filter.kinds]) if (list && list.length === 0) return undefined;
  const tags = tagFilters(filter);
  if (tags.some(([, values]) => values.length === 0)) return undefined;
  const driver = driverOf(filter);
  const col = (name: string, drives: boolean): string => (drives ? `e.${name}` : `+e.${name}`);
  const timeDrives = driver === 'time' || driver === 'kinds' || driver === 'authors';
  const where = new Where();
  if (filter.ids) where.addHex(col('id', driver === 'ids'), filter.ids);
  if (filter.authors) where.addHex(col('pubkey', driver === 'authors'), filter.authors);
  if (filter.kinds) where.addIn(col('kind', driver === 'kinds' || driver === 'authors'), filter.kinds);
  if (filter.since !== undefined) where.add(`${col('created_at', timeDrives)} >= ?`, filter.since);
  if (filter.until !== undefined) where.add(`${col('created_at', timeDrives)} <= ?`, filter.until);
  tags.forEach(([letter, values], i) => {
    const list = Where.inList('t.value', values);
    const seq = col('seq', driver === 'tags' && i === 0);
    where.add(`${seq} IN (SELECT t.seq FROM tags t WHERE t.name = ? AND ${list.sql})`, letter, ...list.params);
  });
  where.add('(e.expiration IS NULL OR e.expiration > ?)', scope.now);
  privacy(where, filter, scope);

  // The two drivers whose index the planner would otherwise trade for a sort-free but unselective scan.
  let from = driver === 'authors' ? 'events e INDEXED BY events_by_author_kind' : driver === 'kinds' ? 'events e INDEXED BY events_by_kind' : 'events e';
  let order = 'e.created_at DESC, e.id';
  const params: Array<string | number> = [];
  if (filter.search !== undefined) {
    const terms = searchTerms(filter.search);
    if (terms.length === 0) return undefined;
    from = 'events_fts f JOIN events e ON e.seq = f.rowid';
    where.parts.unshift('events_fts MATCH ?');
    params.push(ftsExpression(terms));
    order = 'f.rank, e.created_at DESC, e.id';
  }
  params.push(...where.params);
  let sql = `SELECT ${columns} FROM ${from} WHERE ${where.parts.join(' AND ')}`;
  if (ordered) sql += ` ORDER BY ${order}`;
  if (limit !== undefined) {
    sql += ' LIMIT ?';
    params.push(limit);
  }
  return { sql, params };
}

/** Counts distinct events matching any of the filters (limits ignored, as NIP-45 counts all matches). */
export function countToSql(filters: readonly Filter[], scope: QueryScope): SqlQuery | undefined {
  const parts = filters
    .map((f) => filterToSql(f, scope, 'e.seq', undefined, false))
    .filter((q): q is SqlQuery => q !== undefined);
  if (parts.length === 0) return undefined;
  return {
    sql: `SELECT COUNT(*) AS n FROM (${parts.map((p) => p.sql).join(' UNION ')})`,
    params: parts.flatMap((p) => p.params),
  };
}
