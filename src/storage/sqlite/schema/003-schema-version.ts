/** Migration 3: the schema_version table, one row per applied migration (what every engine keeps). */
import type { Migration } from '../migrations.js';

export const migration003: Migration = {
  version: 3,
  name: 'schema-version',
  // Created by migrate() before any step runs (it must exist to record step 1); kept here so the
  // numbered list documents it and a database migrated before it existed gets its rows backfilled.
  sql: `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);`,
};
