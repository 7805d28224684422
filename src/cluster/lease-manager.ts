/**
 * The daemon side of leases. One loop, every `cycleMs` (a quarter of the lease by default, so a
 * lease is renewed three times before it could expire):
 *   heartbeat → renew what it holds (a lease missing from the answer is lost: dropped at once) →
 *   census → claim up to its fair share (or its capacity) → if it is the busiest daemon and someone
 *   is under their share, hand ONE agent over gracefully.
 * Agents that nobody claims for a whole cycle (the other daemons are full) are taken beyond the
 * fair share, up to the capacity: an agent is never left without a holder while someone has room.
 * Gaining, losing and handing over are callbacks: the daemon subscribes, catches up and schedules
 * (gained), aborts (lost), or lets running ticks finish and unsubscribes (handover, shutdown).
 * Safety never depends on this loop's timing: the epoch in each Fence is checked by the commit.
 * Callbacks run on a queue of their own, never inside a pass: a handover waiting for a slow tick, or
 * a slow subscription, must not hold up the renewals of every other lease.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { DaemonRegistration, Fence, Lease, LeaseCensus, LeaseStore } from '../storage/lease-types.js';
import { systemClock, type Clock } from '../util/clock.js';
import { IndexMap } from '../util/index-map.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { fairShares, isLive } from './fair-share.js';

/** The default lease: a daemon that stops renewing loses its agents after this long. */
export const DEFAULT_LEASE_MS = 10_000;

/** What the manager tells the daemon. */
export interface LeaseCallbacks {
  /** Newly held agents: subscribe their inbox from `lease.cursor`, run their pending triggers, alarms and outbox. */
  gained(leases: Lease[]): Promise<void>;
  /** Agents another daemon holds now: stop hosting them at once (their ticks would be refused anyway). */
  lost(agentIndexes: number[]): Promise<void>;
  /** Before a graceful release: stop starting ticks, let the running one finish (or roll back), unsubscribe. */
  releasing(agentIndexes: number[]): Promise<void>;
  /** The catch-up cursor to record for a held agent (unix seconds), if its inbox has caught up. */
  cursorOf?(agentIndex: number): number | undefined;
  /** Agents that are not ticking now (preferred for a handover). */
  busy?(agentIndex: number): boolean;
  /** After every pass, with the agents held (the daemon picks up triggers others queued for them). */
  passed?(held: number[]): Promise<void>;
}

/** Options; defaults in brackets. */
export interface LeaseManagerOptions {
  store: LeaseStore;
  callbacks: LeaseCallbacks;
  /** [DEFAULT_LEASE_MS] */
  leaseMs?: number;
  /** [leaseMs / 4] */
  cycleMs?: number;
  /** [no limit: the fair share] */
  capacity?: number;
  shard?: { index: number; of: number };
  /** [random] */
  daemonId?: string;
  /** [os.hostname()] */
  host?: string;
  /** [process.pid] */
  pid?: number;
  /** [systemClock] */
  clock?: Clock;
  /** [silentLogger] */
  logger?: Logger;
  /** Run the loop on the clock [true]; tests drive `cycle()` themselves. */
  loop?: boolean;
}

/** A fresh daemon id: short, random, readable in `agent daemons`. */
export function newDaemonId(): string {
  return `d-${randomBytes(6).toString('hex')}`;
}

/**
 * What the manager keeps of the held leases: per agent its epoch (for the fence) and the cursor it came
 * with (the fallback when the inbox has no cursor of its own yet), each in a slot of a dense table
 * (small integers sit in the slot itself). Not the store's Lease objects, which carry their own copy
 * of the daemon id and the expiry, nor an object per agent: a daemon holds thousands.
 */
class HeldLeases {
  readonly #epochs = new IndexMap<number>();
  readonly #cursors = new IndexMap<number>();

  get size(): number {
    return this.#epochs.size;
  }

  has(index: number): boolean {
    return this.#epochs.has(index);
  }

  epoch(index: number): number | undefined {
    return this.#epochs.get(index);
  }

  cursor(index: number): number | undefined {
    return this.#cursors.get(index);
  }

  set(index: number, epoch: number, cursor: number | undefined): void {
    this.#epochs.set(index, epoch);
    if (cursor === undefined) this.#cursors.delete(index);
    else this.#cursors.set(index, cursor);
  }

  delete(index: number): void {
    this.#epochs.delete(index);
    this.#cursors.delete(index);
  }

  clear(): void {
    this.#epochs.clear();
    this.#cursors.clear();
  }

  keys(): IterableIterator<number> {
    return this.#epochs.keys();
  }
}

/** Holds this daemon's agents. */
export class LeaseManager {
  readonly id: string;
  readonly leaseMs: number;
  readonly cycleMs: number;
  readonly #o: LeaseManagerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #registration: DaemonRegistration;
  /** Slots per agent index (see IndexMap), not a Map entry: a daemon holds thousands. */
  readonly #held = new HeldLeases();
  /** Agents being handed over: no longer ours to tick, not yet released. */
  readonly #leaving = new Set<number>();
  #freeSince: number | undefined;
  #passes = 0;
  #loop: Promise<void> | undefined;
  readonly #stop = new AbortController();
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  #cycling: Promise<void> = Promise.resolve();
  /** The callbacks' queue (in order: a loss is handled before a later gain of the same agent). */
  #work: Promise<void> = Promise.resolve();

  constructor(options: LeaseManagerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? silentLogger;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.cycleMs = options.cycleMs ?? Math.max(50, Math.floor(this.leaseMs / 4));
    this.id = options.daemonId ?? newDaemonId();
    this.#registration = {
      id: this.id,
      host: options.host ?? hostname(),
      pid: options.pid ?? process.pid,
      startedAt: this.#clock.now(),
      leaseMs: this.leaseMs,
      ...(options.capacity !== undefined ? { capacity: options.capacity } : {}),
      ...(options.shard ? { shard: options.shard } : {}),
    };
  }

  /** True while this daemon holds the agent (and is not handing it over). */
  holds(agentIndex: number): boolean {
    return this.#held.has(agentIndex) && !this.#leaving.has(agentIndex);
  }

  /** The fence for a held agent's commit and outbox (also while it is handed over: its last tick may finish), or undefined. */
  fence(agentIndex: number): Fence | undefined {
    const epoch = this.#held.epoch(agentIndex);
    return epoch !== undefined ? { agentIndex, daemonId: this.id, epoch } : undefined;
  }

  /** The agents held now, by index. */
  held(): number[] {
    return [...this.#held.keys()].filter((i) => !this.#leaving.has(i)).sort((a, b) => a - b);
  }

  /**
   * Registers, waits `settleMs` so daemons started together see each other before the first claim
   * (else the first one up takes everything and hands it back one by one), claims, and starts the loop.
   */
  async start(options: { settleMs?: number } = {}): Promise<void> {
    if (this.#state !== 'new') return;
    this.#state = 'running';
    await this.#o.store.heartbeat(this.#registration, this.#clock.now());
    const census = await this.#o.store.census(this.#clock.now());
    const others = census.daemons.some((d) => d.id !== this.id && isLive(d, this.#clock.now()));
    const settle = options.settleMs ?? (others ? this.cycleMs : 0);
    if (settle > 0) await this.#clock.sleep(settle, { signal: this.#stop.signal }).catch(() => {});
    await this.cycle();
    if (this.#o.loop !== false) this.#loop = this.#run();
  }

  /** One pass and the callbacks it queued (tests call it on a manual clock). Passes never overlap. */
  async cycle(): Promise<void> {
    await this.#pass();
    await this.settled();
  }

  /** Resolves once every queued callback (gain, loss, handover) has run. */
  async settled(): Promise<void> {
    for (let seen: Promise<void> | undefined; seen !== this.#work; ) {
      seen = this.#work;
      await seen;
    }
  }

  #pass(): Promise<void> {
    const next = this.#cycling.then(() => this.#cycle());
    this.#cycling = next.catch(() => {});
    return next;
  }

  /** Queues a callback after those before it; a failure is logged, not thrown into a pass. */
  #queue(what: string, fn: () => Promise<void>): void {
    this.#work = this.#work.then(fn).catch((error: unknown) => this.#log.log({ level: 'warn', ns: 'lease', msg: `${what} failed`, error: (error as Error).message }));
  }

  /**
   * Graceful stop: marked stopping (others stop counting it), every held agent's running tick
   * finishes (the daemon's `releasing`), then all leases are released at once and the row removed,
   * so the others claim them on their next pass instead of waiting for the lease to run out.
   */
  async stop(): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    this.#stop.abort();
    await this.#loop;
    await this.#cycling;
    await this.settled();
    const all = [...this.#held.keys()];
    try {
      await this.#o.store.heartbeat({ ...this.#registration, stopping: true }, this.#clock.now());
      await this.#o.callbacks.releasing(all.filter((i) => !this.#leaving.has(i)));
      await this.#o.store.release(this.id, all.map((i) => this.#fenceWithCursor(i)));
      await this.#o.store.deregister(this.id);
      this.#log.log({ level: 'info', ns: 'lease', msg: 'released every lease', agents: all.length });
    } catch (error) {
      // The database is gone: the leases run out on their own after leaseMs.
      this.#log.log({ level: 'warn', ns: 'lease', msg: 'could not release leases; they expire on their own', error: (error as Error).message });
    }
    this.#held.clear();
    this.#leaving.clear();
    this.#state = 'stopped';
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      await this.#clock.sleep(this.cycleMs, { signal: this.#stop.signal }).catch(() => {});
      if (this.#stop.signal.aborted) break;
      const started = this.#clock.now();
      await this.#pass().catch((error: unknown) =>
        this.#log.log({ level: 'warn', ns: 'lease', msg: 'lease pass failed; retrying', error: (error as Error).message }),
      );
      const took = this.#clock.now() - started;
      if (took > this.leaseMs / 2) this.#log.log({ level: 'warn', ns: 'lease', msg: 'lease pass was slow: leases come close to expiring', ms: took });
    }
  }

  #hold(lease: Lease): void {
    this.#held.set(lease.agentIndex, lease.epoch, lease.cursor);
  }

  #fenceWithCursor(agentIndex: number): Fence & { cursor?: number } {
    const cursor = this.#o.callbacks.cursorOf?.(agentIndex) ?? this.#held.cursor(agentIndex);
    return { agentIndex, daemonId: this.id, epoch: this.#held.epoch(agentIndex) ?? 0, ...(cursor !== undefined ? { cursor } : {}) };
  }

  async #cycle(): Promise<void> {
    if (this.#state !== 'running') return;
    const store = this.#o.store;
    const now = this.#clock.now();
    await store.heartbeat(this.#registration, now);
    await this.#renew(now);
    const census = await store.census(now);
    await this.#claim(census, now);
    await this.#rebalance(census, now);
    const held = this.held();
    if (this.#o.callbacks.passed) this.#queue('pass follow-up', () => this.#o.callbacks.passed!(held));
    // Rows of daemons dead for long hold nothing any more: keep `agent daemons` short.
    if (++this.#passes % 40 === 0) await store.pruneDaemons(now - 60 * this.leaseMs);
  }

  async #renew(now: number): Promise<void> {
    // Agents being handed over are renewed too: their last tick may still commit.
    const mine = [...this.#held.keys()];
    if (mine.length === 0) return;
    const renewed = await this.#o.store.renew(this.id, mine.map((i) => this.#fenceWithCursor(i)), { now, leaseMs: this.leaseMs });
    const kept = new Set(renewed.map((l) => l.agentIndex));
    for (const lease of renewed) this.#hold(lease);
    const lost = mine.filter((i) => !kept.has(i));
    if (lost.length === 0) return;
    for (const i of lost) this.#held.delete(i);
    this.#log.log({ level: 'warn', ns: 'lease', msg: 'leases lost to another daemon', agents: lost.join(' ') });
    this.#queue('dropping lost agents', () => this.#o.callbacks.lost(lost));
  }

  #target(census: LeaseCensus, now: number): { mine: number; targets: Map<string, number>; live: LeaseCensus['daemons'] } {
    const live = census.daemons.filter((d) => d.id === this.id || isLive(d, now));
    const targets = fairShares(census.agents, live.map((d) => ({ id: d.id, ...(d.capacity !== undefined ? { capacity: d.capacity } : {}) })));
    return { mine: targets.get(this.id) ?? 0, targets, live };
  }

  async #claim(census: LeaseCensus, now: number): Promise<void> {
    const { mine } = this.#target(census, now);
    const holding = this.#held.size;
    const cap = this.#o.capacity ?? Infinity;
    let want = Math.min(mine, cap) - holding;
    // Free for two passes while we are at our share: whoever should take them does not (full, pinned,
    // stuck); take them up to the capacity rather than leave an agent without a holder.
    if (census.free > 0) this.#freeSince ??= now;
    else this.#freeSince = undefined;
    if (want <= 0 && this.#freeSince !== undefined && now - this.#freeSince >= 2 * this.cycleMs) want = Math.min(census.free, cap - holding);
    if (want <= 0 || census.free === 0) return;
    const gained = await this.#o.store.claim(this.id, { limit: want, now, leaseMs: this.leaseMs, ...(this.#o.shard ? { shard: this.#o.shard } : {}) });
    this.#freeSince = undefined;
    if (gained.length === 0) return;
    for (const lease of gained) this.#hold(lease);
    this.#log.log({ level: 'info', ns: 'lease', msg: 'claimed', agents: gained.map((l) => l.agentIndex).join(' '), epochs: gained.map((l) => l.epoch).join(' ') });
    this.#queue('taking on claimed agents', () => this.#o.callbacks.gained(gained));
  }

  /**
   * The busiest daemon over its share hands one agent over per pass, while an unpinned daemon is
   * under its share and no agent is waiting to be claimed (a handover not yet taken up, an expired
   * lease): so across the cluster one handover is in flight at a time, and none goes to a daemon
   * whose shard pin would not let it take the agent.
   */
  async #rebalance(census: LeaseCensus, now: number): Promise<void> {
    if (census.free > 0 || this.#leaving.size > 0) return;
    const { targets, live } = this.#target(census, now);
    const over = (d: { id: string; agents: number }): number => d.agents - (targets.get(d.id) ?? 0);
    const counts = live.map((d) => ({ id: d.id, agents: d.id === this.id ? this.#held.size : d.agents, pinned: d.shard !== undefined }));
    if (!counts.some((d) => over(d) < 0 && !d.pinned)) return;
    const busiest = counts.filter((d) => over(d) > 0).sort((a, b) => b.agents - a.agents || over(b) - over(a) || (a.id < b.id ? -1 : 1))[0];
    if (busiest?.id !== this.id) return;
    const candidates = this.held();
    const pick = candidates.filter((i) => !this.#o.callbacks.busy?.(i)).at(-1) ?? candidates.at(-1);
    if (pick === undefined) return;
    this.#leaving.add(pick);
    this.#queue('handover', () => this.handOver(pick));
  }

  /** Hands one agent over gracefully: its running tick finishes, then the lease is released at once. */
  async handOver(agentIndex: number): Promise<void> {
    if (!this.#held.has(agentIndex)) return void this.#leaving.delete(agentIndex);
    this.#leaving.add(agentIndex);
    try {
      await this.#o.callbacks.releasing([agentIndex]);
      await this.#o.store.release(this.id, [this.#fenceWithCursor(agentIndex)]);
      this.#log.log({ level: 'info', ns: 'lease', msg: 'handed over', agent: agentIndex });
    } finally {
      this.#held.delete(agentIndex);
      this.#leaving.delete(agentIndex);
    }
  }
}
