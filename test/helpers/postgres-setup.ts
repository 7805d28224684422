/**
 * vitest globalSetup: one real PostgreSQL for the whole run (unless AGENT_TEST_DATABASE_URL names
 * one), its URL provided to tests as `pgUrl`, and a database migrated once as `pgTemplate` (the
 * contract tests clone it instead of migrating per test). Stopped by its pid at teardown.
 */
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { openStorage } from '../../src/storage/open.js';
import { startPostgres } from './postgres-server.js';
import { adminQuery, withDatabase } from './postgres-admin.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
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
