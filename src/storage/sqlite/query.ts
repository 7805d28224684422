/**
 * Typed SQL constants and a per-database prepared-statement cache. Stores declare their SQL once
 * as `sql<Params, Row>('…')` and run it with `run/get/all(db, query, …params)`; each Db prepares a
 * given statement once (not per call), which matters when one daemon hosts thousands of agents.
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

/** A SQL statement tagged with its parameter tuple `P` and its row type `R`. */
export interface Query<P extends unknown[], R> {
  readonly sql: string;
  /** Phantom field carrying the types; never set. */
  readonly types?: { params: P; row: R };
}

/** Declares a typed SQL constant. */
export function sql<P extends unknown[] = [], R = never>(text: string): Query<P, R> {
  return { sql: text.trim() };
}

const caches = new WeakMap<Db, Map<string, Statement>>();

/** The prepared statement for `query` on `db`, prepared on first use and cached with the Db. */
export function prepared(db: Db, query: Query<unknown[], unknown>): Statement {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  let statement = cache.get(query.sql);
  if (!statement) {
    statement = db.prepare(query.sql);
    cache.set(query.sql, statement);
  }
  return statement;
}

/** Runs a statement that returns no rows; the result says how many rows changed. */
export function run<P extends unknown[], R>(db: Db, query: Query<P, R>, ...params: P): { changes: number; lastInsertRowid: number | bigint } {
  return prepared(db, query as Query<unknown[], unknown>).run(...params);
}

/** The first row of a query, or undefined. */
export function get<P extends unknown[], R>(db: Db, query: Query<P, R>, ...params: P): R | undefined {
  return prepared(db, query as Query<unknown[], unknown>).get(...params) as R | undefined;
}

/** Every row of a query. */
export function all<P extends unknown[], R>(db: Db, query: Query<P, R>, ...params: P): R[] {
  return prepared(db, query as Query<unknown[], unknown>).all(...params) as R[];
}

/** Parses a JSON column written by this layer; a corrupt value names the column instead of crashing obscurely. */
export function parseJsonColumn<T>(text: string, column: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new Error(`corrupt JSON in column ${column}`, { cause });
  }
}
