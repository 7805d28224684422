/**
 * The lease store on PostgreSQL, where many daemons share one database. A claim selects free lease
 * rows `FOR UPDATE SKIP LOCKED` (two daemons claiming at once take different agents, neither waits
 * for the other) and bumps each one's epoch; a renewal or release only touches rows that still carry
 * the daemon's id and epoch. `fenceHolds` is the check the tick commit and the outbox make, under
 * `FOR SHARE`, so a claim cannot slip between the check and the commit.
 *
 * Every method but `deregister` is single statements on the pool, never a queued unit: the storage
 * runs its units one at a time, and a lease pass must not wait behind tick commits (a renewal late
 * by a few slow ticks is a lease lost).
 */
import type { DaemonRegistration, DaemonRow, Fence, Lease, LeaseCensus, LeaseStore } from '../lease-types.js';
import type { Ex } from './executor.js';

interface DaemonDbRow {
  id: string;
  host: string;
  pid: number;
  started_at: number;
  heartbeat_at: number;
  lease_ms: number;
  capacity: number | null;
  shard: string | null;
  stopping: boolean;
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

function toLease(row: LeaseDbRow): Lease {
  return { agentIndex: row.agent_index, daemonId: row.daemon_id ?? '', epoch: Number(row.epoch), expiresAt: Number(row.expires_at), ...(row.cursor !== null ? { cursor: Number(row.cursor) } : {}) };
}

function toDaemon(row: DaemonDbRow): DaemonRow {
  const shard = row.shard ? /^(\d+)\/(\d+)$/.exec(row.shard) : null;
  return {
    id: row.id,
    host: row.host,
    pid: row.pid,
    startedAt: Number(row.started_at),
    heartbeatAt: Number(row.heartbeat_at),
    leaseMs: row.lease_ms,
    ...(row.capacity !== null ? { capacity: row.capacity } : {}),
    ...(shard ? { shard: { index: Number(shard[1]), of: Number(shard[2]) } } : {}),
    stopping: row.stopping,
    agents: Number(row.agents),
    ...(row.next_expiry !== null ? { nextExpiry: Number(row.next_expiry) } : {}),
  };
}

/** True when the fence still holds; locks the lease row FOR SHARE until the caller's transaction ends. */
export async function fenceHolds(ex: Ex, fence: Fence): Promise<boolean> {
  const row = await ex.one<{ one: number }>(
    `SELECT 1 AS one FROM agent_leases WHERE agent_index = $1 AND daemon_id = $2 AND epoch = $3 FOR SHARE`,
    [fence.agentIndex, fence.daemonId, fence.epoch],
  );
  return row !== undefined;
}

/** The lease store over an executor. */
export function pgLeaseStore(ex: Ex): LeaseStore {
  return {
    heartbeat: async (d: DaemonRegistration, now) => {
      await ex.count(
        `INSERT INTO daemons (id, host, pid, started_at, heartbeat_at, lease_ms, capacity, shard, stopping) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, lease_ms = excluded.lease_ms,
           capacity = excluded.capacity, shard = excluded.shard, stopping = excluded.stopping`,
        [d.id, d.host, d.pid, d.startedAt, now, d.leaseMs, d.capacity ?? null, d.shard ? `${d.shard.index}/${d.shard.of}` : null, d.stopping ?? false],
      );
    },
    deregister: (id) =>
      ex.unit(async (tx) => {
        await tx.count(`UPDATE agent_leases SET daemon_id = NULL, expires_at = 0 WHERE daemon_id = $1`, [id]);
        await tx.count(`DELETE FROM daemons WHERE id = $1`, [id]);
      }),
    census: async (now): Promise<LeaseCensus> => {
      const counts = await ex.one<{ agents: number; free: number }>(
        `SELECT count(*)::int AS agents,
           coalesce(sum(CASE WHEN l.daemon_id IS NULL OR l.expires_at <= $1 THEN 1 ELSE 0 END), 0)::int AS free
         FROM agents a LEFT JOIN agent_leases l USING (agent_index) WHERE a.state <> 'terminated'`,
        [now],
      );
      const daemons = await ex.rows<DaemonDbRow>(
        `SELECT d.*, count(l.agent_index)::int AS agents, min(l.expires_at) AS next_expiry
         FROM daemons d LEFT JOIN agent_leases l ON l.daemon_id = d.id
         GROUP BY d.id ORDER BY d.started_at, d.id`,
      );
      return { agents: counts?.agents ?? 0, free: counts?.free ?? 0, daemons: daemons.map(toDaemon) };
    },
    pruneDaemons: (olderThan) => ex.count(`DELETE FROM daemons WHERE heartbeat_at < $1`, [olderThan]),
    claim: async (id, o) => {
      if (o.limit <= 0) return [];
      await ex.count(
        `INSERT INTO agent_leases (agent_index) SELECT agent_index FROM agents a
         WHERE a.state <> 'terminated' AND NOT EXISTS (SELECT 1 FROM agent_leases l WHERE l.agent_index = a.agent_index)
         ON CONFLICT (agent_index) DO NOTHING`,
      );
      const shard = o.shard ?? { index: 0, of: 1 };
      const rows = await ex.rows<LeaseDbRow>(
        `UPDATE agent_leases SET daemon_id = $1, epoch = epoch + 1, expires_at = $2
         WHERE agent_index IN (
           SELECT l.agent_index FROM agent_leases l JOIN agents a USING (agent_index)
           WHERE a.state <> 'terminated' AND (l.daemon_id IS NULL OR l.expires_at <= $3) AND l.agent_index % $4 = $5
           ORDER BY l.agent_index LIMIT $6
           FOR UPDATE OF l SKIP LOCKED)
         RETURNING *`,
        [id, o.now + o.leaseMs, o.now, shard.of, shard.index, o.limit],
      );
      return rows.map(toLease).sort((a, b) => a.agentIndex - b.agentIndex);
    },
    renew: async (id, held, o) => {
      if (held.length === 0) return [];
      const rows = await ex.rows<LeaseDbRow>(
        `UPDATE agent_leases l SET expires_at = $2,
           cursor = CASE WHEN h.cursor IS NULL THEN l.cursor ELSE greatest(coalesce(l.cursor, 0), h.cursor) END
         FROM unnest($3::int[], $4::bigint[], $5::bigint[]) AS h(agent_index, epoch, cursor)
         WHERE l.agent_index = h.agent_index AND l.daemon_id = $1 AND l.epoch = h.epoch
         RETURNING l.*`,
        [id, o.now + o.leaseMs, held.map((f) => f.agentIndex), held.map((f) => f.epoch), held.map((f) => f.cursor ?? null)],
      );
      return rows.map(toLease);
    },
    release: async (id, held) => {
      if (held.length === 0) return 0;
      return ex.count(
        `UPDATE agent_leases l SET daemon_id = NULL, expires_at = 0,
           cursor = CASE WHEN h.cursor IS NULL THEN l.cursor ELSE greatest(coalesce(l.cursor, 0), h.cursor) END
         FROM unnest($2::int[], $3::bigint[], $4::bigint[]) AS h(agent_index, epoch, cursor)
         WHERE l.agent_index = h.agent_index AND l.daemon_id = $1 AND l.epoch = h.epoch`,
        [id, held.map((f) => f.agentIndex), held.map((f) => f.epoch), held.map((f) => f.cursor ?? null)],
      );
    },
    list: async () =>
      (
        await ex.rows<LeaseDbRow>(
          `SELECT a.agent_index, l.daemon_id, coalesce(l.epoch, 0) AS epoch, coalesce(l.expires_at, 0) AS expires_at, l.cursor
           FROM agents a LEFT JOIN agent_leases l USING (agent_index) WHERE a.state <> 'terminated' ORDER BY a.agent_index`,
        )
      ).map((r) => ({
        agentIndex: r.agent_index,
        ...(r.daemon_id !== null ? { daemonId: r.daemon_id } : {}),
        epoch: Number(r.epoch),
        expiresAt: Number(r.expires_at),
        ...(r.cursor !== null ? { cursor: Number(r.cursor) } : {}),
      })),
    holds: async (fence) =>
      (await ex.one<{ one: number }>(`SELECT 1 AS one FROM agent_leases WHERE agent_index = $1 AND daemon_id = $2 AND epoch = $3`, [fence.agentIndex, fence.daemonId, fence.epoch])) !== undefined,
  };
}
