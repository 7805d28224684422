/**
 * How every Postgres store reaches the server: an `Ex` runs one statement (`rows`/`count`) or a
 * unit of several in one transaction (`unit`). Two kinds:
 *
 * - the pool executor (no transaction open): a statement runs on any pooled connection; a unit takes
 *   a connection, BEGIN … COMMIT. Units run one at a time per storage (an in-process queue), so two
 *   transactions of one process never interleave their writes, as on SQLite.
 * - a transaction executor (inside a unit or `storage.transaction`): statements run on the unit's
 *   connection; a nested unit is a SAVEPOINT, rolled back alone when it throws (better-sqlite3's
 *   nested-transaction rule).
 *
 * Losing the server is not a failure of the work: a statement or unit that fails because the
 * connection did (refused, reset, shutdown, recovery) waits with backoff and runs again until the
 * server is back or the storage is closed. A unit is re-run whole (it had not committed: COMMIT
 * itself failing is the one in-doubt case, and every unit here is safe to repeat after a commit —
 * commitTick's consumed-trigger rule turns a repeat into StorageConflictError, upserts repeat as
 * no-ops). `onUnavailable`/`onAvailable` tell the composition (a log line) once per outage.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { StorageMisuseError } from '../errors.js';
import { isConnectionError } from './connection.js';

/** A statement runner: the pool's or one open transaction's. */
export interface Ex {
  /** Rows of one statement. */
  rows<R>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** The first row, or undefined. */
  one<R>(text: string, params?: readonly unknown[]): Promise<R | undefined>;
  /** Rows changed by one statement. */
  count(text: string, params?: readonly unknown[]): Promise<number>;
  /** Runs `fn` atomically: a transaction on the pool, a savepoint inside one. */
  unit<T>(fn: (ex: Ex) => Promise<T>): Promise<T>;
  /** True inside a transaction. */
  readonly inTransaction: boolean;
}

/** What the pool executor reports and how long it waits between tries. */
export interface ExecutorOptions {
  onUnavailable?: (err: unknown) => void;
  onAvailable?: () => void;
  /** First and largest wait between tries while the server is away (ms). */
  backoff?: { firstMs: number; maxMs: number };
}

/** Statement names by text: node-postgres prepares a named statement once per connection. */
const names = new Map<string, string>();
function statement(text: string, params: readonly unknown[] | undefined): pg.QueryConfig {
  let name = names.get(text);
  if (!name) {
    name = `s${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    names.set(text, name);
  }
  return { name, text, values: params as unknown[] | undefined };
}

/**
 * Holds a connection's socket writes until the end of this turn of the event loop (`setImmediate`),
 * so every statement issued on it meanwhile goes out in one write: node-postgres writes each
 * statement as soon as it is issued (its Bind, Execute and Sync in one `writev`), and on loopback
 * TCP each such write costs the daemon a system call and the backend a wake-up; a tick issues its
 * independent statements together (commitTick's ~10, BEGIN with the first read), so one write each
 * instead of one per statement. Only when writes go out changes: their order, and every statement's
 * own Sync and result, stay as they were.
 */
const corked = new WeakSet<object>();
function batchWrites(client: pg.ClientBase): void {
  const stream = (client as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
  if (!stream?.cork || !stream.uncork || corked.has(stream)) return;
  corked.add(stream);
  stream.cork();
  setImmediate(() => {
    corked.delete(stream);
    stream.uncork?.();
  });
}

/** `client.query`, its write held to the end of the turn (batchWrites). */
function send(client: pg.ClientBase, query: string | pg.QueryConfig): Promise<pg.QueryResult> {
  batchWrites(client);
  return client.query(query);
}

/** A FIFO lock: one holder at a time. */
class Queue {
  #tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/**
 * The statements outside a transaction issued in one turn of the event loop (concurrent receives,
 * the outbox's reads and settles, a snapshot's reads): they share one pooled connection, so they go
 * out in one write (batchWrites) and wake one backend, which runs them one after the other, each with
 * its own Sync (autocommit, errors per statement, as on separate connections). The connection goes
 * back to the pool once the turn is over and every statement of the batch has its answer; one that
 * failed with a connection error is not reused.
 */
class TurnBatch {
  #open = true;
  #pending = 0;
  #broken: unknown;
  #client: pg.PoolClient | undefined;
  readonly #connected: Promise<pg.PoolClient>;
  // A checked-out client whose server goes away emits 'error'; without a listener that kills the process.
  readonly #onError = (err: unknown): void => void (this.#broken ??= err);

  constructor(pool: pg.Pool) {
    this.#connected = pool.connect().then((client) => {
      client.on('error', this.#onError);
      this.#client = client;
      return client;
    });
    this.#connected.catch(() => undefined);
    setImmediate(() => {
      this.#open = false;
      this.#releaseWhenDone();
    });
  }

  /** False once the turn is over: later statements start a new batch. */
  get open(): boolean {
    return this.#open;
  }

  async run(query: pg.QueryConfig): Promise<pg.QueryResult> {
    this.#pending++;
    try {
      return await send(await this.#connected, query);
    } catch (err) {
      if (isConnectionError(err)) this.#broken ??= err;
      throw err;
    } finally {
      this.#pending--;
      this.#releaseWhenDone();
    }
  }

  #releaseWhenDone(): void {
    const client = this.#client;
    if (this.#open || this.#pending > 0 || !client) return;
    this.#client = undefined;
    client.off('error', this.#onError);
    const broken = this.#broken;
    client.release(broken instanceof Error ? broken : broken ? new Error('connection lost') : undefined);
  }
}

/** The pool executor of one storage. */
export class PoolExecutor implements Ex {
  readonly inTransaction = false;
  readonly #pool: pg.Pool;
  readonly #queue = new Queue();
  /**
   * Set inside a unit's callback, so a call on the storage (not the tx handle) is caught as misuse.
   * `active` goes false when the unit ends: work the callback left running may use the storage later.
   */
  readonly #inside = new AsyncLocalStorage<{ active: boolean }>();
  readonly #options: ExecutorOptions;
  #closed = false;
  #down = false;
  readonly #closing = new AbortController();
  #batch: TurnBatch | undefined;

  constructor(pool: pg.Pool, options: ExecutorOptions = {}) {
    this.#pool = pool;
    this.#options = options;
  }

  async rows<R>(text: string, params?: readonly unknown[]): Promise<R[]> {
    this.#check();
    return this.#retry(async () => (await this.#turn().run(statement(text, params))).rows as R[]);
  }

  async one<R>(text: string, params?: readonly unknown[]): Promise<R | undefined> {
    return (await this.rows<R>(text, params))[0];
  }

  async count(text: string, params?: readonly unknown[]): Promise<number> {
    this.#check();
    return this.#retry(async () => (await this.#turn().run(statement(text, params))).rowCount ?? 0);
  }

  /** This turn's batch of statements outside a transaction (a new one once the last has closed). */
  #turn(): TurnBatch {
    if (this.#batch?.open) return this.#batch;
    const batch = new TurnBatch(this.#pool);
    this.#batch = batch;
    return batch;
  }

  /** One transaction; queued behind any other unit of this storage; re-run whole after a lost connection. */
  unit<T>(fn: (ex: Ex) => Promise<T>): Promise<T> {
    this.#check();
    return this.#queue.run(() => this.#retry(() => this.#transaction(fn)));
  }

  async #transaction<T>(fn: (ex: Ex) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    const tx = new TxExecutor(client);
    let broken: unknown;
    // A checked-out client whose server goes away between two statements emits 'error' (the pool
    // only listens while it is idle): without a listener that kills the process. The next statement fails
    // with a connection error instead, and the unit is retried.
    const onError = (err: unknown): void => void (broken ??= err);
    client.on('error', onError);
    try {
      // BEGIN is not awaited: on the pipelined connection the unit's first statement goes out behind
      // it in the same round trip. A failed BEGIN fails that statement too, and is rethrown below.
      const begin = send(client, 'BEGIN');
      begin.catch(() => undefined);
      const scope = { active: true };
      const result = await this.#inside.run(scope, () => fn(tx)).finally(() => (scope.active = false));
      await begin;
      await tx.drain();
      tx.finish();
      const committed = await send(client, 'COMMIT');
      // COMMIT of a transaction a failed statement aborted answers ROLLBACK, not an error: never
      // report such a unit as committed.
      if (committed.command === 'ROLLBACK') throw new StorageMisuseError('the transaction was rolled back: a statement in it failed and its error was caught');
      return result;
    } catch (err) {
      tx.finish();
      if (isConnectionError(err)) broken = err;
      else await send(client, 'ROLLBACK').catch((e: unknown) => (broken = e));
      throw err;
    } finally {
      // A connection that failed is not returned to the pool for reuse.
      client.off('error', onError);
      client.release(broken instanceof Error ? broken : broken ? new Error('connection lost') : undefined);
    }
  }

  async #retry<T>(attempt: () => Promise<T>): Promise<T> {
    const { firstMs, maxMs } = this.#options.backoff ?? { firstMs: 100, maxMs: 5_000 };
    let wait = firstMs;
    for (;;) {
      try {
        const result = await attempt();
        if (this.#down) {
          this.#down = false;
          this.#options.onAvailable?.();
        }
        return result;
      } catch (err) {
        if (!isConnectionError(err) || this.#closed) throw err;
        if (!this.#down) {
          this.#down = true;
          this.#options.onUnavailable?.(err);
        }
        await sleep(wait, this.#closing.signal);
        if (this.#closed) throw err;
        wait = Math.min(maxMs, wait * 2);
      }
    }
  }

  #check(): void {
    if (this.#closed) throw new StorageMisuseError('the storage is closed');
    if (this.#inside.getStore()?.active) {
      throw new StorageMisuseError('a call on the storage inside its own transaction: use the transaction handle (tx) instead');
    }
  }

  /** Stops retrying (pending waits end), waits for queued units, ends the pool. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    await this.#queue.run(async () => undefined);
    await this.#pool.end();
  }
}

/** The executor of one open transaction. */
class TxExecutor implements Ex {
  readonly inTransaction = true;
  #done = false;
  #savepoints = 0;
  constructor(readonly client: pg.PoolClient) {}

  finish(): void {
    this.#done = true;
  }

  async rows<R>(text: string, params?: readonly unknown[]): Promise<R[]> {
    this.#check();
    return (await send(this.client, statement(text, params))).rows as R[];
  }

  async one<R>(text: string, params?: readonly unknown[]): Promise<R | undefined> {
    return (await this.rows<R>(text, params))[0];
  }

  async count(text: string, params?: readonly unknown[]): Promise<number> {
    this.#check();
    return (await send(this.client, statement(text, params))).rowCount ?? 0;
  }

  /**
   * A savepoint. SAVEPOINT and RELEASE are not awaited where they are issued (the pipelined
   * connection sends the next statement behind them): SAVEPOINT is awaited before the unit returns
   * or rolls back, RELEASE before the enclosing transaction commits (`drain`). Either failing fails
   * every later statement of the transaction, so nothing is reported committed that was not.
   */
  async unit<T>(fn: (ex: Ex) => Promise<T>): Promise<T> {
    this.#check();
    const name = `sp${++this.#savepoints}`;
    const savepoint = send(this.client, `SAVEPOINT ${name}`);
    savepoint.catch(() => undefined);
    try {
      const result = await fn(this);
      await savepoint;
      this.#defer(send(this.client, `RELEASE SAVEPOINT ${name}`));
      return result;
    } catch (err) {
      if (!isConnectionError(err)) {
        await savepoint;
        await send(this.client, `ROLLBACK TO SAVEPOINT ${name}`);
      }
      throw err;
    }
  }

  /** Statements sent but not yet awaited (RELEASE of a savepoint): their errors surface at `drain`. */
  readonly #deferred: Array<Promise<unknown>> = [];

  #defer(statement: Promise<unknown>): void {
    statement.catch(() => undefined);
    this.#deferred.push(statement);
  }

  /** Waits for every deferred statement; throws the first failure. */
  async drain(): Promise<void> {
    while (this.#deferred.length > 0) await this.#deferred.shift();
  }

  #check(): void {
    if (this.#done) throw new StorageMisuseError('a call on a transaction handle after its transaction ended');
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
