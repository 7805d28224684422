/**
 * The lease part of the storage seam: the daemon registry and one lease row per agent. Many daemons
 * on one database share the agents through it; a daemon ticks, and publishes for, only the agents it
 * holds. Every claim bumps the agent's `epoch`, and a `Fence` (agent, daemon, epoch) is what the tick
 * commit and the outbox check in their own transaction: a daemon that lost an agent (frozen past its
 * lease, cut off) can commit and publish nothing for it, whatever its clock says.
 *
 * Times are the callers' milliseconds; only liveness (when a lease counts as expired) depends on
 * them, never safety, which rests on the epoch alone.
 */

/** What a daemon says about itself when it registers and on every heartbeat. */
export interface DaemonRegistration {
  /** Random per process start (not the pid: pids repeat across machines). */
  id: string;
  host: string;
  pid: number;
  startedAt: number;
  /** How long its leases last without renewal, ms. */
  leaseMs: number;
  /** The most agents it takes (`agent run --capacity N`); undefined: its fair share. */
  capacity?: number;
  /** Only agents with `index % of === index` (`agent run --shard i/n`, a pin on top of leases). */
  shard?: { index: number; of: number };
  /** Set once it is shutting down: it claims nothing more and is no longer counted in fair shares. */
  stopping?: boolean;
}

/** A daemon's row as `agent daemons` shows it. */
export interface DaemonRow extends DaemonRegistration {
  heartbeatAt: number;
  /** Agents it holds now. */
  agents: number;
  /** The earliest expiry among its leases. */
  nextExpiry?: number;
}

/** The proof of holding one agent: checked inside the tick commit and the outbox delivery. */
export interface Fence {
  agentIndex: number;
  daemonId: string;
  epoch: number;
}

/** A held lease. */
export interface Lease extends Fence {
  expiresAt: number;
  /**
   * Unix seconds before which every inbox event of this agent has been settled by a former holder
   * (undefined: no holder ever caught up; the new holder reads from the agent's creation).
   */
  cursor?: number;
}

/** One agent's lease row (for `agent status`, fair shares and tests). */
export interface LeaseRow {
  agentIndex: number;
  /** Undefined when released or never claimed. */
  daemonId?: string;
  epoch: number;
  expiresAt: number;
  cursor?: number;
}

/** The counts a daemon's fair share is computed from. */
export interface LeaseCensus {
  /** Agents that need a holder (not terminated). */
  agents: number;
  /** Of those, how many nobody holds now (never claimed, released, or expired at `now`). */
  free: number;
  /** Every registered daemon with its agent count (stale ones included: callers judge liveness). */
  daemons: DaemonRow[];
}

/** The lease store. Each method is one transaction. */
export interface LeaseStore {
  /** Registers the daemon or refreshes its heartbeat (and `stopping`, `capacity`). */
  heartbeat(daemon: DaemonRegistration, now: number): Promise<void>;
  /** Removes the daemon's row and releases whatever it still holds (graceful stop). */
  deregister(daemonId: string): Promise<void>;
  /** Daemons and counts as of `now`. */
  census(now: number): Promise<LeaseCensus>;
  /** Forgets daemons whose heartbeat is older than `olderThan` (they hold nothing by then); returns how many. */
  pruneDaemons(olderThan: number): Promise<number>;
  /**
   * Claims up to `limit` agents nobody holds at `now`, lowest index first, skipping rows another
   * transaction has locked (FOR UPDATE SKIP LOCKED where the engine has it). Each claim bumps the epoch.
   */
  claim(daemonId: string, options: { limit: number; now: number; leaseMs: number; shard?: { index: number; of: number } }): Promise<Lease[]>;
  /**
   * Extends the leases that still carry the daemon and epoch given (expired ones too, if nobody claimed
   * them since), recording each agent's catch-up cursor; returns those renewed: a missing one is lost.
   */
  renew(daemonId: string, held: Array<Fence & { cursor?: number }>, options: { now: number; leaseMs: number }): Promise<Lease[]>;
  /** Gives leases up at once (epoch kept, holder cleared), with their final cursors; returns how many were still held. */
  release(daemonId: string, held: Array<Fence & { cursor?: number }>): Promise<number>;
  /** Every non-terminated agent's lease row, by index. */
  list(): Promise<LeaseRow[]>;
  /** True when the fence still holds (the same check the commit makes). */
  holds(fence: Fence): Promise<boolean>;
}
