/**
 * The storage contract runs on every engine: `describeEngines(title, body)` declares the same suite
 * once per engine (SQLite on a temp file, PostgreSQL on the run's test server), and `body` gets a
 * fixture whose `fresh()` makes a new, empty database for one test and `open()` opens the seam on
 * it (again, for restart tests). Everything opened is closed and removed after each test.
 *
 * Postgres databases are cloned from the run's template, migrated once by the globalSetup (CREATE
 * DATABASE … TEMPLATE), and reused by later tests of the file after every row is deleted, so a
 * test's fresh database costs one statement, not a migration.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, inject } from 'vitest';
import { openStorage, type OpenStorageOptions } from '../../../src/storage/open.js';
import type { AgentStorage } from '../../../src/storage/types.js';
import { adminQuery, testServerUrl, withDatabase } from '../../helpers/postgres.js';

/** The engines every contract test runs on. */
export const ENGINE_NAMES = ['sqlite', 'postgres'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** One test's database. */
export interface TestDatabase {
  readonly url: string;
  /** Opens the seam on it (each call a new handle, closed after the test). */
  open(options?: OpenStorageOptions): Promise<AgentStorage>;
}

/** What a contract suite gets. */
export interface EngineFixture {
  readonly engine: EngineName;
  /** A new empty database. */
  fresh(): Promise<TestDatabase>;
  /** Shorthand: a new database, opened. */
  open(options?: OpenStorageOptions): Promise<AgentStorage>;
}

/**
 * Empties every table of a migrated database (keeping schema_version), ids restarting at 1. DELETE,
 * not TRUNCATE: the tables are tiny, and TRUNCATE makes new files for every table and index.
 */
const EMPTY = `DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_version' LOOP
    EXECUTE 'DELETE FROM ' || quote_ident(r.tablename);
  END LOOP;
  FOR r IN SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() LOOP
    EXECUTE 'ALTER SEQUENCE ' || quote_ident(r.sequencename) || ' RESTART';
  END LOOP;
END $$`;

/** This file's databases cloned from the template, and those free for the next test. */
const created: string[] = [];
const spare: string[] = [];
let counter = 0;

function fixture(engine: EngineName): EngineFixture {
  const opened: AgentStorage[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (opened.length) await opened.pop()!.close();
    while (cleanups.length) await cleanups.pop()!();
  });
  const wrap = (url: string): TestDatabase => ({
    url,
    async open(options) {
      const storage = await openStorage(url, options);
      opened.push(storage);
      return storage;
    },
  });
  const fresh = async (): Promise<TestDatabase> => {
    if (engine === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'storage-contract-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      return wrap(`sqlite:${join(dir, 'agents.db')}`);
    }
    const server = testServerUrl();
    let name = spare.pop();
    if (!name) {
      name = `c_${process.pid}_${Date.now().toString(36)}_${++counter}`;
      await adminQuery(server, `CREATE DATABASE "${name}" TEMPLATE "${inject('pgTemplate')}"`);
      created.push(name);
    }
    const url = withDatabase(server, name);
    const taken = name;
    cleanups.push(async () => {
      await adminQuery(url, EMPTY);
      spare.push(taken);
    });
    return wrap(url);
  };
  return {
    engine,
    fresh,
    async open(options) {
      return (await fresh()).open(options);
    },
  };
}

/** Declares `body` once per engine, titled `title [engine]`. */
export function describeEngines(title: string, body: (fx: EngineFixture) => void): void {
  for (const engine of ENGINE_NAMES) {
    describe(`${title} [${engine}]`, () => {
      body(fixture(engine));
    });
  }
  afterAll(async () => {
    const server = testServerUrl();
    spare.length = 0;
    while (created.length) await adminQuery(server, `DROP DATABASE IF EXISTS "${created.pop()!}" WITH (FORCE)`);
  });
}
