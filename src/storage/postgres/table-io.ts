/**
 * TableIO on Postgres (see ../table-io.ts): explicit ids go in with OVERRIDING SYSTEM VALUE, facts
 * get their tsvector computed as on any insert, and identity sequences are moved past the copied ids.
 */
import type { CopiedTable, Row, TableIO, TableWriter } from '../table-io.js';
import { createPool } from './connection.js';
import { searchableText } from './fact-store.js';

/** Tables whose `id` is an identity column. */
const IDENTITY = new Set(['facts', 'messages', 'goals', 'schedules', 'inbox', 'outbox']);

/** Opens a (migrated) database for table-level copying. */
export function postgresTableIO(url: string): TableIO {
  const pool = createPool(url, { max: 1 });
  return {
    async *read(table: CopiedTable, batch: number): AsyncIterable<Row[]> {
      let offset = 0;
      for (;;) {
        const { rows } = await pool.query<Row>(`SELECT ${table.columns.join(', ')} FROM ${table.name} ORDER BY ${table.orderBy} LIMIT $1 OFFSET $2`, [batch, offset]);
        if (rows.length === 0) return;
        yield rows;
        offset += rows.length;
      }
    },
    async counts(tables) {
      const out: Record<string, number> = {};
      for (const t of tables) out[t.name] = (await pool.query<{ n: number }>(`SELECT count(*) AS n FROM ${t.name}`)).rows[0]?.n ?? 0;
      return out;
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const writer: TableWriter = {
          async clear(tables) {
            for (const t of [...tables].reverse()) await client.query(`DELETE FROM ${t.name}`);
            await client.query('DELETE FROM chain_heads');
          },
          async insert(table, rows) {
            const columns = [...table.columns];
            const facts = table.name === 'facts';
            const names = facts ? [...columns, 'search'] : columns;
            for (const row of rows) {
              const values: unknown[] = columns.map((c) => row[c] ?? null);
              const slots = columns.map((_, i) => `$${i + 1}`);
              if (facts) {
                const tags = JSON.parse(String(row.tags_json ?? '[]')) as string[];
                values.push(searchableText(String(row.text ?? '')), searchableText(tags.join(' ')));
                const a = values.length - 1;
                slots.push(`setweight(to_tsvector('agent_fts', $${a}), 'A') || setweight(to_tsvector('agent_fts', $${a + 1}), 'B')`);
              }
              const overriding = IDENTITY.has(table.name) ? ' OVERRIDING SYSTEM VALUE' : '';
              await client.query(`INSERT INTO ${table.name} (${names.join(', ')})${overriding} VALUES (${slots.join(', ')})`, values);
            }
          },
          async resetSequences(tables) {
            for (const t of tables) {
              if (!IDENTITY.has(t.name)) continue;
              await client.query(`SELECT setval(pg_get_serial_sequence('${t.name}', 'id'), coalesce((SELECT max(id) FROM ${t.name}), 0) + 1, false)`);
            }
          },
        };
        await fn(writer);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async schemaVersion() {
      return (await pool.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_version')).rows[0]?.v ?? 0;
    },
    async sizeBytes() {
      return (await pool.query<{ n: number }>(`SELECT pg_database_size(current_database()) AS n`)).rows[0]?.n ?? 0;
    },
    close: () => pool.end(),
  };
}
