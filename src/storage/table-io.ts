/**
 * Table-level access for `agent db copy`: the tables both engines share (same names and columns,
 * see docs/storage.md), read in primary-key order and written with their ids as they were, so a
 * copy keeps every counter, status and id. Each engine implements TableIO (sqlite/table-io.ts,
 * postgres/table-io.ts); only src/storage/copy.ts uses it.
 */

/** One row: column name → number, string or null. */
export type Row = Record<string, number | string | null>;

/** A copied table: its name, columns and key (for the order rows are read in). */
export interface CopiedTable {
  name: string;
  columns: readonly string[];
  orderBy: string;
}

/**
 * Every table `agent db copy` moves, parents first. agents.storage_bytes is written as 0: the
 * engines' triggers add each memory row's bytes back as it is inserted. Trajectory chain heads go
 * through the seam (SQLite keeps them in meta, Postgres in chain_heads).
 */
export const COPIED_TABLES: readonly CopiedTable[] = [
  {
    name: 'agents',
    columns: ['agent_index', 'name', 'account', 'pubkey', 'behavior', 'state', 'config_json', 'created_at', 'updated_at', 'last_tick_at', 'ticks', 'failures', 'consecutive_failures', 'last_error'],
    orderBy: 'agent_index',
  },
  { name: 'kv', columns: ['agent_index', 'key', 'value_json', 'updated_at'], orderBy: 'agent_index, key' },
  { name: 'facts', columns: ['id', 'agent_index', 'text', 'tags_json', 'created_at'], orderBy: 'id' },
  { name: 'messages', columns: ['id', 'agent_index', 'peer', 'direction', 'text', 'event_id', 'at'], orderBy: 'id' },
  { name: 'goals', columns: ['id', 'agent_index', 'text', 'status', 'due_at', 'created_at', 'updated_at'], orderBy: 'id' },
  { name: 'peers', columns: ['agent_index', 'pubkey', 'first_seen', 'last_seen', 'message_count', 'trust'], orderBy: 'agent_index, pubkey' },
  { name: 'schedules', columns: ['id', 'agent_index', 'type', 'spec_json', 'payload_json', 'key', 'next_at', 'created_at', 'last_fired_at', 'fire_count'], orderBy: 'id' },
  {
    name: 'inbox',
    columns: ['id', 'agent_index', 'trigger', 'event_id', 'dedupe_key', 'sender', 'payload_json', 'status', 'attempts', 'not_before', 'created_at', 'updated_at', 'reason'],
    orderBy: 'id',
  },
  {
    name: 'ticks',
    columns: ['agent_index', 'seq', 'started_at', 'ended_at', 'trigger_type', 'outcome', 'error', 'record_json', 'published_event_id', 'published_at'],
    orderBy: 'agent_index, seq',
  },
  { name: 'budget_usage', columns: ['agent_index', 'day', 'compute_ms', 'llm_calls', 'tokens', 'sats', 'notified80', 'notified100'], orderBy: 'agent_index, day' },
  {
    name: 'outbox',
    columns: ['id', 'agent_pubkey', 'event_id', 'event_json', 'target_json', 'status', 'attempts', 'next_attempt_at', 'created_at', 'deadline_at', 'last_attempt_at', 'accepted_json', 'results_json', 'last_error', 'delivered_at', 'finished_at'],
    orderBy: 'id',
  },
  { name: 'processed_events', columns: ['event_id', 'outcome', 'processed_at'], orderBy: 'event_id' },
  { name: 'relay_cursors', columns: ['relay', 'cursor'], orderBy: 'relay' },
];

/** One engine's raw tables. */
export interface TableIO {
  /** Rows of a table, in `orderBy` order, `batch` at a time. */
  read(table: CopiedTable, batch: number): AsyncIterable<Row[]>;
  /** Row count of each table (for the empty-target check and `agent db status`). */
  counts(tables: readonly CopiedTable[]): Promise<Record<string, number>>;
  /** Runs `fn` in one write transaction: everything written lands, or nothing. */
  transaction(fn: (w: TableWriter) => Promise<void>): Promise<void>;
  /** The database's schema version (max of schema_version). */
  schemaVersion(): Promise<number>;
  /** Bytes the database takes on disk. */
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
}

/** Writes inside a TableIO transaction. */
export interface TableWriter {
  /** Deletes every row of these tables (children first). */
  clear(tables: readonly CopiedTable[]): Promise<void>;
  /** Inserts rows with their ids as given. */
  insert(table: CopiedTable, rows: Row[]): Promise<void>;
  /** After explicit ids: id generators continue past the largest id. */
  resetSequences(tables: readonly CopiedTable[]): Promise<void>;
}
