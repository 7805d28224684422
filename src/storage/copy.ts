/**
 * `agent db copy` and `agent db status`, engine to engine through TableIO (table-io.ts): every
 * agent's record, memory, schedules, budgets, ticks, inbox and outbox rows, processed events and
 * relay cursors, ids and counters as they were, in ONE transaction on the target; then each
 * agent's trajectory chain head through the seam. A target that holds anything is refused unless
 * `force` (then it is emptied first, in the same transaction).
 */
import { StorageConflictError } from './errors.js';
import { maskDatabaseUrl, openStorage, parseDatabaseUrl } from './open.js';
import { COPIED_TABLES, type TableIO } from './table-io.js';

/** What a copy moved, per table. */
export interface CopyReport {
  from: string;
  to: string;
  rows: Record<string, number>;
  chainHeads: number;
}

/** What `agent db status` shows. */
export interface DatabaseStatus {
  url: string;
  engine: 'sqlite' | 'postgres';
  schemaVersion: number;
  sizeBytes: number;
  rows: Record<string, number>;
}

/** Opens table-level access to a migrated database (creating and migrating it through the seam first). */
async function openTables(url: string): Promise<TableIO> {
  const location = parseDatabaseUrl(url);
  if (location.engine === 'sqlite') {
    const { sqliteTableIO } = await import('./sqlite/table-io.js');
    return sqliteTableIO(location.file);
  }
  const { postgresTableIO } = await import('./postgres/table-io.js');
  return postgresTableIO(location.url);
}

const BATCH = 500;

/** Copies every agent from `fromUrl` to `toUrl`. */
export async function copyDatabase(fromUrl: string, toUrl: string, options: { force?: boolean } = {}): Promise<CopyReport> {
  const source = await openStorage(fromUrl, { readonly: true });
  const target = await openStorage(toUrl);
  const report: CopyReport = { from: maskDatabaseUrl(fromUrl), to: maskDatabaseUrl(toUrl), rows: {}, chainHeads: 0 };
  let from: TableIO | undefined;
  let to: TableIO | undefined;
  try {
    from = await openTables(fromUrl);
    to = await openTables(toUrl);
    const existing = await to.counts(COPIED_TABLES);
    const filled = Object.entries(existing).filter(([, n]) => n > 0);
    if (filled.length > 0 && !options.force) {
      throw new StorageConflictError(
        `database ${report.to} is not empty (${filled.map(([t, n]) => `${t}: ${n}`).join(', ')}); use --force to replace what it holds`,
      );
    }
    const reader = from;
    await to.transaction(async (w) => {
      if (filled.length > 0) await w.clear(COPIED_TABLES);
      for (const table of COPIED_TABLES) {
        let n = 0;
        for await (const rows of reader.read(table, BATCH)) {
          await w.insert(table, rows);
          n += rows.length;
        }
        report.rows[table.name] = n;
      }
      await w.resetSequences(COPIED_TABLES);
    });
    await to.close();
    to = undefined;
    for (const agent of await source.agents.list()) {
      const head = await source.chainHeads.get(agent.index);
      if (head === undefined) continue;
      await target.chainHeads.set(agent.index, head);
      report.chainHeads += 1;
    }
    return report;
  } finally {
    await from?.close();
    await to?.close();
    await source.close();
    await target.close();
  }
}

/** Engine, schema version, size and row counts of the database at `url` (read-only). */
export async function databaseStatus(url: string): Promise<DatabaseStatus> {
  const location = parseDatabaseUrl(url);
  const storage = await openStorage(url, { readonly: true });
  await storage.close();
  const tables = await openTables(url);
  try {
    return {
      url: maskDatabaseUrl(url),
      engine: location.engine,
      schemaVersion: await tables.schemaVersion(),
      sizeBytes: await tables.sizeBytes(),
      rows: await tables.counts(COPIED_TABLES),
    };
  } finally {
    await tables.close();
  }
}
