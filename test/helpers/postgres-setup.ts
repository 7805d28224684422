/**
 * vitest globalSetup: one real PostgreSQL for the whole run (unless AGENT_TEST_DATABASE_URL names
 * one), its URL provided to tests as `pgUrl`, stopped by its pid at teardown.
 */
import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres-server.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.AGENT_TEST_DATABASE_URL;
  if (given) {
    project.provide('pgUrl', given);
    return async () => undefined;
  }
  const server = await startPostgres();
  project.provide('pgUrl', server.url);
  return () => server.destroy();
}
