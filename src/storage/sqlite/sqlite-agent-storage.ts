/**
 * SqliteAgentStorage: the AgentStorage seam over one better-sqlite3 connection (WAL, migrated on
 * open). better-sqlite3 is synchronous, so each store call is one uninterrupted unit; what needs care
 * is the async transaction, whose callback awaits between statements. The rules:
 *
 * - An AsyncLock is held from BEGIN IMMEDIATE to COMMIT/ROLLBACK of `transaction(fn)`.
 * - A call outside a transaction runs at once when the lock is free (no queueing, no extra tick:
 *   the common case costs one resolved Promise), else waits its turn behind the transaction, so
 *   it can neither join the open transaction nor read its uncommitted rows.
 * - Calls through the `tx` handle run at once, inside the transaction; the handle dies when `fn`
 *   settles. A call on the storage itself from inside `fn` (it would wait for its own transaction
 *   forever) is refused with StorageMisuseError, found through AsyncLocalStorage.
 *
 * `commitTick` needs no async transaction: it is one synchronous better-sqlite3 transaction (a
 * savepoint when called through `tx`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Clock } from '../../util/clock.js';
import type { LeaseStore } from '../lease-types.js';
import { StorageMisuseError } from '../errors.js';
import type { AgentRegistry, ConversationStore, FactStore, GoalStore, KvStore, PeerStore } from '../agent-types.js';
import type { ChainHeadStore, CursorStore, OutboxStore, ProcessedStore } from '../messaging-types.js';
import type { BudgetLedger, InboxStore, ScheduleStore, TickStore } from '../runtime-types.js';
import type { AgentMemorySnapshot } from '../snapshot.js';
import type { AgentStorage, StorageStores, StorageTx, TickCommit, TickCommitResult } from '../types.js';
import { AsyncLock } from './async-lock.js';
import { WalCheckpointer } from './checkpointer.js';
import { openDatabase, type Db, type OpenDatabaseOptions } from './database.js';
import { sqliteStores, type Exec } from './sqlite-stores.js';

/** Options for `SqliteAgentStorage.open`. */
export interface SqliteAgentStorageOptions extends OpenDatabaseOptions {
  /** Where default timestamps come from (default: Date.now). */
  clock?: Pick<Clock, 'now'>;
  /**
   * Checkpoint the WAL on a worker thread instead of in the writer's commits (checkpointer.ts): for
   * the one long-lived writer, the daemon. Ignored for `:memory:` and read-only databases.
   */
  backgroundCheckpoints?: boolean;
  /** Where a failed checkpoint worker is reported (the writer then checkpoints on its own again). */
  onCheckpointError?: (message: string) => void;
}

/** One open transaction (what AsyncLocalStorage carries through `fn`'s async work). */
interface TxScope {
  owner: SqliteAgentStorage;
  active: boolean;
}

const scopes = new AsyncLocalStorage<TxScope>();
/** One lock per connection, however many storage objects wrap it. */
const locks = new WeakMap<Db, AsyncLock>();

function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

/** The SQLite implementation of AgentStorage. */
export class SqliteAgentStorage implements AgentStorage {
  readonly engine = 'sqlite';
  readonly agents: AgentRegistry;
  readonly schedules: ScheduleStore;
  readonly inbox: InboxStore;
  readonly ticks: TickStore;
  readonly budget: BudgetLedger;
  readonly outbox: OutboxStore;
  readonly processed: ProcessedStore;
  readonly cursors: CursorStore;
  readonly chainHeads: ChainHeadStore;
  readonly leases: LeaseStore;
  readonly #stores: StorageStores;
  readonly #now: () => number;
  readonly #lock: AsyncLock;
  readonly #checkpointer: WalCheckpointer | undefined;
  #closed = false;

  /** Opens (creating and migrating) the database file, or `:memory:`. Synchronous: for tests and tools inside storage/. */
  static open(file: string, options: SqliteAgentStorageOptions = {}): SqliteAgentStorage {
    return new SqliteAgentStorage(openDatabase(file, options), options);
  }

  /** Wraps an already opened and migrated Db. */
  constructor(
    readonly db: Db,
    options: SqliteAgentStorageOptions = {},
  ) {
    const clock = options.clock;
    this.#now = clock ? () => clock.now() : Date.now;
    let lock = locks.get(db);
    if (!lock) {
      lock = new AsyncLock();
      locks.set(db, lock);
    }
    this.#lock = lock;
    if (options.backgroundCheckpoints && !options.readonly && !db.memory && !db.readonly) {
      this.#checkpointer = new WalCheckpointer(db, db.name, { ...(options.onCheckpointError ? { onError: options.onCheckpointError } : {}) });
    }
    this.#stores = sqliteStores(this.#exec, this.#now);
    ({ agents: this.agents, schedules: this.schedules, inbox: this.inbox, ticks: this.ticks, budget: this.budget, outbox: this.outbox, processed: this.processed, cursors: this.cursors, chainHeads: this.chainHeads, leases: this.leases } = this.#stores);
  }

  /** The gate for calls on the storage itself (not a transaction handle). */
  readonly #exec: Exec = <T>(fn: (db: Db) => T): Promise<T> => {
    if (this.#closed) return Promise.reject(new StorageMisuseError('storage used after close'));
    const scope = scopes.getStore();
    if (scope?.active && scope.owner === this) {
      return Promise.reject(new StorageMisuseError('storage called inside its own transaction: use the tx handle transaction(fn) passes to fn'));
    }
    if (!this.#lock.held) return settle(() => fn(this.db));
    return this.#lock.acquire().then((release) => {
      try {
        if (this.#closed) throw new StorageMisuseError('storage used after close');
        return fn(this.db);
      } finally {
        release();
      }
    });
  };

  kv(agentIndex: number, options?: { storageLimitBytes?: number }): KvStore {
    return this.#stores.kv(agentIndex, options);
  }

  facts(agentIndex: number): FactStore {
    return this.#stores.facts(agentIndex);
  }

  conversations(agentIndex: number): ConversationStore {
    return this.#stores.conversations(agentIndex);
  }

  goals(agentIndex: number): GoalStore {
    return this.#stores.goals(agentIndex);
  }

  peers(agentIndex: number): PeerStore {
    return this.#stores.peers(agentIndex);
  }

  commitTick(commit: TickCommit): Promise<TickCommitResult> {
    return this.#stores.commitTick(commit);
  }

  exportMemory(agentIndex: number): Promise<AgentMemorySnapshot> {
    return this.#stores.exportMemory(agentIndex);
  }

  importMemory(agentIndex: number, snapshot: unknown, options: { now: number; storageLimitBytes?: number }): Promise<AgentMemorySnapshot> {
    return this.#stores.importMemory(agentIndex, snapshot, options);
  }

  async transaction<T>(fn: (tx: StorageTx) => Promise<T>): Promise<T> {
    if (this.#closed) throw new StorageMisuseError('storage used after close');
    const outer = scopes.getStore();
    if (outer?.active && outer.owner === this) throw new StorageMisuseError('transaction inside a transaction: compose the work in one transaction(fn) through its tx handle');
    const release = await this.#lock.acquire();
    const scope: TxScope = { owner: this, active: true };
    try {
      if (this.#closed) throw new StorageMisuseError('storage used after close');
      const exec: Exec = (f) => (scope.active ? settle(() => f(this.db)) : Promise.reject(new StorageMisuseError('transaction handle used after its transaction ended')));
      const tx = sqliteStores(exec, this.#now);
      this.db.exec('BEGIN IMMEDIATE');
      let result: T;
      try {
        result = await scopes.run(scope, () => fn(tx));
      } catch (error) {
        scope.active = false;
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
      scope.active = false;
      this.db.exec('COMMIT');
      return result;
    } finally {
      scope.active = false;
      release();
    }
  }

  /** Waits for a running transaction, then closes the database (idempotent). */
  async close(): Promise<void> {
    if (this.#closed) return;
    const release = await this.#lock.acquire();
    try {
      this.#closed = true;
      // The worker's connection first: the writer's close, the last one, then checkpoints what is left and removes the WAL.
      await this.#checkpointer?.stop();
      if (this.db.open) this.db.close();
    } finally {
      release();
    }
  }
}
