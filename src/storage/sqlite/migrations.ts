/**
 * Numbered migrations, applied in order inside one transaction each; `PRAGMA user_version` records
 * the last applied number. A migration is never edited once released: add the next number instead.
 */
import type { Db } from './database.js';
import { migration001 } from './schema/001-runtime.js';
import { migration002 } from './schema/002-messaging.js';

/** One schema step. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = [migration001, migration002];

/** Applies every migration newer than the database's `user_version`. */
export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
