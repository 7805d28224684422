/**
 * The PostgreSQL connection: a node-postgres Pool, int8 read as JS numbers (times are ms, counts
 * small), and the mapping of driver errors to one clear line naming the database (password masked).
 * Connection-class failures (server gone, restarting, refusing) are told apart from SQL errors so
 * the executor can wait for the server instead of failing a tick.
 */
import pg from 'pg';
import { DatabaseOpenError } from '../errors.js';
import { maskDatabaseUrl } from '../open.js';

/** int8 (bigint, count(*)) as a JS number: every value stored here fits in 2^53. */
const INT8_OID = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

/** Opens a pool on `url` (no connection is made until first use). */
export function createPool(url: string, options: { max?: number } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 8,
    types,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'nostr-agent-runtime',
    // Pipeline mode: a statement is written as soon as it is issued, behind any still in flight on
    // the connection (each with its own Sync, so errors stay per statement). A transaction that
    // issues independent statements without awaiting each pays one loopback round trip for the
    // batch instead of one per statement; awaited one by one, it behaves as before.
    pipeline: true,
  } as pg.PoolConfig);
  // An idle client whose server went away emits 'error' on the pool; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * True for a failure of the connection rather than of the statement: the server is unreachable,
 * shutting down, restarting or in recovery, or the socket died. Such work can be tried again.
 */
export function isConnectionError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (CONNECTION_CODES.has(code)) return true;
  // SQLSTATE class 08 (connection exception), 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now).
  if (/^08/.test(code) || code === '57P01' || code === '57P02' || code === '57P03') return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable|the database system is (starting up|shutting down|in recovery mode)/i.test(message);
}

/** SQLSTATEs of a refused login: bad password, no such role, no such database, not allowed. */
const AUTH_CODES: Record<string, string> = {
  '28P01': 'authentication failed (wrong user or password)',
  '28000': 'authentication refused',
  '3D000': 'no such database',
  '42501': 'permission denied',
};

/** The DatabaseOpenError for a failed first connection: one line, the URL masked, no password anywhere. */
export function openError(url: string, err: unknown): DatabaseOpenError {
  const masked = maskDatabaseUrl(url);
  const e = err as { code?: string; message?: string };
  const why = (e.code && AUTH_CODES[e.code]) ?? (isConnectionError(err) ? `server unreachable (${scrub(e.message ?? String(err), url)})` : scrub(e.message ?? String(err), url));
  return new DatabaseOpenError('DATABASE_UNAVAILABLE', `database ${masked}: ${why}`, { cause: err });
}

/** A driver message with the URL's password taken out (node-postgres never prints it, but be sure). */
export function scrub(message: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    /* an unparsable URL carries nothing to scrub */
  }
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return password ? oneLine.split(password).join('***') : oneLine;
}
