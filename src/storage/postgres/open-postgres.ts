/**
 * Opening a PostgreSQL AgentStorage: connect once (a wrong URL, unreachable server or refused login
 * fails here with one clear line, exit 2 in the CLI), apply pending migrations (or, read-only, check
 * the schema), then hand out the pooled storage.
 */
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { DatabaseOpenError } from '../errors.js';
import { maskDatabaseUrl } from '../open.js';
import { createPool, isConnectionError, openError, scrub } from './connection.js';
import { PoolExecutor } from './executor.js';
import { migrate, PG_SCHEMA_VERSION, schemaNewer, schemaVersion } from './migrations.js';
import { PostgresAgentStorage } from './postgres-agent-storage.js';

/** How to open. */
export interface OpenPostgresOptions {
  clock?: Pick<Clock, 'now'>;
  readonly?: boolean;
  /** Where "database unavailable, retrying" and "database available again" go (default: nowhere). */
  logger?: Logger;
  /** Pool size (default 8). */
  maxConnections?: number;
}

/** Opens, checks and migrates the database at `url`. */
export async function openPostgresStorage(url: string, options: OpenPostgresOptions = {}): Promise<PostgresAgentStorage> {
  const pool = createPool(url, { max: options.maxConnections });
  try {
    const client = await pool.connect().catch((err: unknown) => {
      throw openError(url, err);
    });
    try {
      if (options.readonly) {
        const version = await schemaVersion(client);
        if (version > PG_SCHEMA_VERSION) throw schemaNewer(url, version);
        if (version === 0) throw new DatabaseOpenError('DATABASE_UNAVAILABLE', `database ${maskDatabaseUrl(url)}: holds no agent runtime schema`);
      } else {
        await migrate(client, url);
      }
    } catch (err) {
      if (err instanceof DatabaseOpenError) throw err;
      throw isConnectionError(err) ? openError(url, err) : new DatabaseOpenError('DATABASE_UNAVAILABLE', `database ${maskDatabaseUrl(url)}: ${scrub(String((err as Error).message ?? err), url)}`, { cause: err });
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  const masked = maskDatabaseUrl(url);
  const logger = options.logger;
  const ex = new PoolExecutor(pool, {
    onUnavailable: (err) => logger?.log({ level: 'warn', ns: 'storage', msg: 'database unavailable, retrying', database: masked, error: scrub(String((err as Error)?.message ?? err), url) }),
    onAvailable: () => logger?.log({ level: 'info', ns: 'storage', msg: 'database available again', database: masked }),
  });
  return new PostgresAgentStorage(ex, { clock: options.clock });
}
