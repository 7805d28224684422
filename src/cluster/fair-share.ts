/**
 * Fair shares: how many agents each live daemon should hold. Water-filling over capacities: daemons
 * with a small `--capacity` get all they can take, the rest split what is left evenly (the first ones
 * by id get the remainder). Every daemon computes the same answer from the same census, so nobody
 * needs to coordinate beyond the lease rows.
 */
import type { DaemonRow } from '../storage/lease-types.js';

/** A daemon counts in fair shares while its heartbeat is fresher than its lease and it is not stopping. */
export function isLive(daemon: Pick<DaemonRow, 'heartbeatAt' | 'leaseMs' | 'stopping'>, now: number): boolean {
  return !daemon.stopping && now - daemon.heartbeatAt < daemon.leaseMs;
}

/** Targets by daemon id for `agents` agents over `daemons` (only the live ones are passed in). */
export function fairShares(agents: number, daemons: Array<Pick<DaemonRow, 'id' | 'capacity'>>): Map<string, number> {
  const targets = new Map<string, number>();
  // Smallest capacities first: whatever they cannot take is split among the others.
  const order = [...daemons].sort((a, b) => (a.capacity ?? Infinity) - (b.capacity ?? Infinity) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let remaining = Math.max(0, agents);
  let left = order.length;
  const capped = order.filter((d) => d.capacity !== undefined);
  for (const d of capped) {
    const even = Math.ceil(remaining / left);
    if ((d.capacity ?? Infinity) >= even) break;
    targets.set(d.id, d.capacity ?? 0);
    remaining -= d.capacity ?? 0;
    left -= 1;
  }
  const rest = order.filter((d) => !targets.has(d.id)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const base = rest.length ? Math.floor(remaining / rest.length) : 0;
  let extra = rest.length ? remaining - base * rest.length : 0;
  for (const d of rest) {
    targets.set(d.id, base + (extra > 0 ? 1 : 0));
    if (extra > 0) extra -= 1;
  }
  return targets;
}
