/** Migration 2: outbox, processed events and relay cursors (the messaging layer's tables). */
import type { Migration } from '../migrations.js';

export const migration002: Migration = {
  version: 2,
  name: 'messaging',
  sql: `
    CREATE TABLE IF NOT EXISTS relay_cursors (relay TEXT PRIMARY KEY, cursor INTEGER NOT NULL);
  `,
};
