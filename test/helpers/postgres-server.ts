/** The test PostgreSQL server lives beside the benches (bench/postgres-server.ts), which start one too. */
export * from '../../bench/postgres-server.js';
