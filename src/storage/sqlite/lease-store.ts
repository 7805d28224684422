/**
 * The lease store on SQLite. SQLite runs one daemon per home (daemon-lock.ts), so here the leases
 * mostly record who holds what for `agent status` and `agent daemons`, and keep the code path the
 * same as on PostgreSQL; every method is one transaction, and SQLite's single writer serializes them
 * (what FOR UPDATE SKIP LOCKED gives on PostgreSQL).
 */
import type { DaemonRegistration, DaemonRow, Fence, Lease, LeaseCensus, LeaseStore } from '../lease-types.js';
import type { Db } from './database.js';
import { all, get, run, sql } from './query.js';
import type { Exec } from './sqlite-stores.js';

interface DaemonDbRow {
  id: string;
  host: string;
  pid: number;
  started_at: number;
  heartbeat_at: number;
  lease_ms: number;
  capacity: number | null;
  shard: string | null;
  stopping: number;
  agents: number;
  next_expiry: number | null;
}

interface LeaseDbRow {
  agent_index: number;
  daemon_id: string | null;
  epoch: number;
  expires_at: number;
  cursor: number | null;
}

const HEARTBEAT = sql<[string, string, number, number, number, number, number | null, string | null, number]>(`
  INSERT INTO daemons (id, host, pid, started_at, heartbeat_at, lease_ms, capacity, shard, stopping) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, lease_ms = excluded.lease_ms,
    capacity = excluded.capacity, shard = excluded.shard, stopping = excluded.stopping`);
const RELEASE_ALL = sql<[string]>(`UPDATE agent_leases SET daemon_id = NULL, expires_at = 0 WHERE daemon_id = ?`);
const DELETE_DAEMON = sql<[string]>(`DELETE FROM daemons WHERE id = ?`);
const DAEMONS = sql<[], DaemonDbRow>(`
  SELECT d.*, count(l.agent_index) AS agents, min(l.expires_at) AS next_expiry
  FROM daemons d LEFT JOIN agent_leases l ON l.daemon_id = d.id
  GROUP BY d.id ORDER BY d.started_at, d.id`);
const COUNTS = sql<[number], { agents: number; free: number }>(`
  SELECT count(*) AS agents,
    coalesce(sum(CASE WHEN l.daemon_id IS NULL OR l.expires_at <= ? THEN 1 ELSE 0 END), 0) AS free
  FROM agents a LEFT JOIN agent_leases l USING (agent_index) WHERE a.state <> 'terminated'`);
const PRUNE = sql<[number]>(`DELETE FROM daemons WHERE heartbeat_at < ?`);
const ENSURE_ROWS = sql(`
  INSERT INTO agent_leases (agent_index) SELECT agent_index FROM agents
  WHERE state <> 'terminated' AND agent_index NOT IN (SELECT agent_index FROM agent_leases)`);
/** FREE and the take in one statement: a start claiming 10,000 agents ran 10,000 UPDATEs (~0.7 s). */
const TAKE_FREE = sql<[string, number, number, number, number, number], LeaseDbRow>(`
  UPDATE agent_leases SET daemon_id = ?, epoch = epoch + 1, expires_at = ? WHERE agent_index IN (
    SELECT l.agent_index FROM agent_leases l JOIN agents a USING (agent_index)
    WHERE a.state <> 'terminated' AND (l.daemon_id IS NULL OR l.expires_at <= ?) AND l.agent_index % ? = ?
    ORDER BY l.agent_index LIMIT ?)
  RETURNING *`);
/**
 * Every held lease in one statement (the fences as one JSON array of [index, epoch, cursor]): a
 * daemon with 10,000 agents renewed them with 10,000 UPDATEs per pass. The `+` on `daemon_id` keeps
 * SQLite off the `agent_leases_daemon` index: with it, the planner walked every lease of this daemon
 * and scanned the whole JSON array for each (quadratic: 0.27 s per pass at 1,000 agents, ~10 % of a
 * busy daemon's CPU); without it each fence finds its row by primary key (1.4 ms at 1,000).
 * test/storage/schema.test.ts checks the plan.
 */
export const RENEW_MANY = sql<[number, string, string], LeaseDbRow>(`
  UPDATE agent_leases SET expires_at = ?,
    cursor = CASE WHEN f.cursor IS NULL THEN agent_leases.cursor ELSE max(coalesce(agent_leases.cursor, 0), f.cursor) END
  FROM (SELECT value ->> 0 AS agent_index, value ->> 1 AS epoch, value ->> 2 AS cursor FROM json_each(?)) AS f
  WHERE agent_leases.agent_index = f.agent_index AND +agent_leases.daemon_id = ? AND agent_leases.epoch = f.epoch
  RETURNING agent_leases.agent_index, agent_leases.daemon_id, agent_leases.epoch, agent_leases.expires_at, agent_leases.cursor`);
const RELEASE = sql<[number | null, number | null, number, string, number]>(`
  UPDATE agent_leases SET daemon_id = NULL, expires_at = 0,
    cursor = CASE WHEN ? IS NULL THEN cursor ELSE max(coalesce(cursor, 0), ?) END
  WHERE agent_index = ? AND daemon_id = ? AND epoch = ?`);
const LIST = sql<[], LeaseDbRow>(`
  SELECT a.agent_index, l.daemon_id, coalesce(l.epoch, 0) AS epoch, coalesce(l.expires_at, 0) AS expires_at, l.cursor
  FROM agents a LEFT JOIN agent_leases l USING (agent_index) WHERE a.state <> 'terminated' ORDER BY a.agent_index`);
const HOLDS = sql<[number, string, number], { one: number }>(`
  SELECT 1 AS one FROM agent_leases WHERE agent_index = ? AND daemon_id = ? AND epoch = ?`);

function toLease(row: LeaseDbRow): Lease {
  return { agentIndex: row.agent_index, daemonId: row.daemon_id ?? '', epoch: row.epoch, expiresAt: row.expires_at, ...(row.cursor !== null ? { cursor: row.cursor } : {}) };
}

function toDaemon(row: DaemonDbRow): DaemonRow {
  const shard = row.shard ? /^(\d+)\/(\d+)$/.exec(row.shard) : null;
  return {
    id: row.id,
    host: row.host,
    pid: row.pid,
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    leaseMs: row.lease_ms,
    ...(row.capacity !== null ? { capacity: row.capacity } : {}),
    ...(shard ? { shard: { index: Number(shard[1]), of: Number(shard[2]) } } : {}),
    stopping: row.stopping === 1,
    agents: row.agents,
    ...(row.next_expiry !== null ? { nextExpiry: row.next_expiry } : {}),
  };
}

/** True when the fence still holds; the check `commitTick` makes in its transaction. */
export function fenceHolds(db: Db, fence: Fence): boolean {
  return get(db, HOLDS, fence.agentIndex, fence.daemonId, fence.epoch) !== undefined;
}

/** The lease store through the engine's gate (synchronous underneath; every method one transaction, a savepoint inside an open one). */
export function sqliteLeaseStore(exec: Exec): LeaseStore {
  const tx = <T>(fn: (db: Db) => T): Promise<T> => exec((db) => db.transaction(() => fn(db))());
  return {
    heartbeat: (d: DaemonRegistration, now) =>
      tx((db) => void run(db, HEARTBEAT, d.id, d.host, d.pid, d.startedAt, now, d.leaseMs, d.capacity ?? null, d.shard ? `${d.shard.index}/${d.shard.of}` : null, d.stopping ? 1 : 0)),
    deregister: (id) =>
      tx((db) => {
        run(db, RELEASE_ALL, id);
        run(db, DELETE_DAEMON, id);
      }),
    census: (now): Promise<LeaseCensus> =>
      tx((db) => {
        const counts = get(db, COUNTS, now) ?? { agents: 0, free: 0 };
        return { agents: counts.agents, free: counts.free, daemons: all(db, DAEMONS).map(toDaemon) };
      }),
    pruneDaemons: (olderThan) => tx((db) => run(db, PRUNE, olderThan).changes),
    claim: (id, o) =>
      tx((db) => {
        if (o.limit <= 0) return [];
        run(db, ENSURE_ROWS);
        const shard = o.shard ?? { index: 0, of: 1 };
        // RETURNING gives no order: by agent index, as the leases were picked.
        return all(db, TAKE_FREE, id, o.now + o.leaseMs, o.now, shard.of, shard.index, o.limit)
          .sort((a, b) => a.agent_index - b.agent_index)
          .map(toLease);
      }),
    renew: (id, held, o) =>
      tx((db) => {
        if (held.length === 0) return [];
        const fences = JSON.stringify(held.map((f) => [f.agentIndex, f.epoch, f.cursor ?? null]));
        // In the order of `held`, as one UPDATE per lease returned them.
        const rows = new Map(all(db, RENEW_MANY, o.now + o.leaseMs, fences, id).map((r) => [r.agent_index, r]));
        return held.flatMap((f) => {
          const row = rows.get(f.agentIndex);
          return row ? [toLease(row)] : [];
        });
      }),
    release: (id, held) =>
      tx((db) => held.reduce((n, f) => n + run(db, RELEASE, f.cursor ?? null, f.cursor ?? null, f.agentIndex, id, f.epoch).changes, 0)),
    list: () =>
      tx((db) =>
        all(db, LIST).map((r) => ({
          agentIndex: r.agent_index,
          ...(r.daemon_id !== null ? { daemonId: r.daemon_id } : {}),
          epoch: r.epoch,
          expiresAt: r.expires_at,
          ...(r.cursor !== null ? { cursor: r.cursor } : {}),
        })),
      ),
    holds: (fence) => tx((db) => fenceHolds(db, fence)),
  };
}
