/** TableIO on SQLite (see ../table-io.ts): plain statements on one better-sqlite3 connection. */
import type { CopiedTable, Row, TableIO, TableWriter } from '../table-io.js';
import { openDatabase } from './database.js';

/** Opens the (migrated) database file for table-level copying. */
export function sqliteTableIO(file: string): TableIO {
  const db = openDatabase(file);
  const writer: TableWriter = {
    async clear(tables) {
      for (const t of [...tables].reverse()) db.prepare(`DELETE FROM ${t.name}`).run();
      db.prepare(`DELETE FROM meta WHERE key LIKE 'trajectory:%'`).run();
    },
    async insert(table, rows) {
      const columns = table.columns;
      const insert = db.prepare(`INSERT INTO ${table.name} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      for (const row of rows) insert.run(...columns.map((c) => row[c] ?? null));
    },
    // AUTOINCREMENT's sqlite_sequence follows explicit ids by itself; rowid tables use max(rowid) + 1.
    async resetSequences() {},
  };
  return {
    async *read(table: CopiedTable, batch: number): AsyncIterable<Row[]> {
      let offset = 0;
      const select = db.prepare(`SELECT ${table.columns.join(', ')} FROM ${table.name} ORDER BY ${table.orderBy} LIMIT ? OFFSET ?`);
      for (;;) {
        const rows = select.all(batch, offset) as Row[];
        if (rows.length === 0) return;
        yield rows;
        offset += rows.length;
      }
    },
    async counts(tables) {
      const out: Record<string, number> = {};
      for (const t of tables) out[t.name] = (db.prepare(`SELECT count(*) AS n FROM ${t.name}`).get() as { n: number }).n;
      return out;
    },
    async transaction(fn) {
      db.exec('BEGIN IMMEDIATE');
      try {
        await fn(writer);
        db.exec('COMMIT');
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
    },
    async schemaVersion() {
      return (db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null }).v ?? 0;
    },
    async sizeBytes() {
      const pages = db.pragma('page_count', { simple: true }) as number;
      const size = db.pragma('page_size', { simple: true }) as number;
      return pages * size;
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
