/** Migration 1: agents, memory, schedules, inbox, ticks and budgets (the runtime's tables). */
import type { Migration } from '../migrations.js';

export const migration001: Migration = {
  version: 1,
  name: 'runtime',
  sql: `
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
};
