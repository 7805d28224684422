/**
 * Drives the durable outbox: picks due rows, resolves their relays, publishes, records every relay's
 * answer, and retries with backoff until one relay says OK (`duplicate:` included) or the row's
 * deadline passes, when it is marked `failed` and reported, never dropped silently.
 */
import { rejectionPrefix } from '../protocol/schema.js';
import type { AgentStorage, OutboxEntry } from '../storage/types.js';
import { CANCELLED, systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { OwnEchoes } from './own-echoes.js';
import { resolveTargetRelays } from './target-relays.js';
import type { OutboxReport, RelayListResolver, RelayPool, RelayPublishResult } from './types.js';
import { sleepLinked } from '../util/linked-signal.js';

/** Answers that will not change on retry: that relay is skipped from then on. */
const PERMANENT = new Set(['blocked', 'invalid', 'restricted', 'pow', 'mute']);

/** A row someone waits for: a DM to another key, or a reply sent to the relays a mention came from. */
const isConversation = (row: OutboxEntry): boolean => row.target.type !== 'own';

/** Options; defaults: retries 2 s doubling to 5 min, ±50% jitter; poll every 1 s; 16 rows per round. */
export interface OutboxPublisherOptions {
  /** The outbox, through the storage seam (an attempt and its outcome are recorded in one transaction). */
  storage: Pick<AgentStorage, 'outbox' | 'transaction'>;
  /**
   * This daemon's id when many share the database: only rows of agents it holds by lease are picked
   * (the lease check is in the selecting statement), so a daemon that lost an agent publishes nothing for it.
   */
  holder?: string;
  pool: RelayPool;
  lists: RelayListResolver;
  /** The agent's own write / DM relays (always published to). */
  ownRelays: (agentPubkey: string) => string[];
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
  backoff?: BackoffOptions;
  pollIntervalMs?: number;
  batch?: number;
  publishTimeoutMs?: number;
  onReport?: (report: OutboxReport) => void;
  /** Where the `own` copies of gift wraps are noted before they go out, so the inbox does not open them again. */
  ownEchoes?: OwnEchoes;
}

/** The outbox sender loop. `runOnce` does one round (tests drive it directly); `start` loops. */
export class OutboxPublisher {
  readonly #o: OutboxPublisherOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  #loop: Promise<void> | undefined;
  #stop = new AbortController();
  #wake: AbortController = new AbortController();

  constructor(options: OutboxPublisherOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? silentLogger;
  }

  /** Starts the background loop (idempotent). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Wakes the loop now (call after a transaction enqueued rows). */
  notify(): void {
    this.#wake.abort(CANCELLED);
  }

  /** Stops the loop after the current round. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wake.abort(CANCELLED);
    await this.#loop;
  }

  /**
   * Attempts every due row once; returns what happened to each (in the rows' order). Conversation
   * rows (a DM or reply to someone else) go first, and the rest (self-copies, trajectory events,
   * profiles) only once those have their answers: someone is waiting for the former, and a relay
   * checks and stores what arrives together in one batch, so background events sent alongside
   * would hold the reply back behind their signature checks.
   */
  async runOnce(options: { signal?: AbortSignal } = {}): Promise<OutboxReport[]> {
    const held = this.#o.holder !== undefined ? { holder: this.#o.holder } : undefined;
    const rows = await this.#o.storage.outbox.due(this.#clock.now(), this.#o.batch ?? 16, held);
    const first = rows.filter(isConversation);
    const reports = new Map<OutboxEntry, OutboxReport>();
    const attempt = async (row: OutboxEntry): Promise<void> => void reports.set(row, await this.#attempt(row, options.signal));
    await Promise.all(first.map(attempt));
    await Promise.all(rows.filter((row) => !isConversation(row)).map(attempt));
    return rows.map((row) => reports.get(row)!);
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      try {
        await this.runOnce({ signal: this.#stop.signal });
      } catch (cause) {
        this.#log.log({ level: 'error', ns: 'outbox', msg: 'outbox round failed', error: (cause as Error).message });
      }
      const next = await this.#o.storage.outbox.nextDue(this.#o.holder !== undefined ? { holder: this.#o.holder } : undefined).catch((cause: unknown) => {
        this.#log.log({ level: 'error', ns: 'outbox', msg: 'could not read the outbox', error: (cause as Error).message });
        return undefined;
      });
      const poll = this.#o.pollIntervalMs ?? 1000;
      const wait = next === undefined ? poll : Math.min(poll, Math.max(0, next - this.#clock.now()));
      if (this.#wake.signal.aborted) this.#wake = new AbortController();
      await sleepLinked(this.#clock, wait, this.#stop.signal, this.#wake.signal).catch(() => {});
    }
  }

  async #attempt(row: OutboxEntry, signal: AbortSignal | undefined): Promise<OutboxReport> {
    const base = { outboxId: row.id, agentPubkey: row.agentPubkey, eventId: row.eventId, kind: row.event.kind, createdAt: row.createdAt };
    const refused = row.results.filter((r) => !r.ok && PERMANENT.has(rejectionPrefix(r.message) ?? ''));
    const targets = await resolveTargetRelays(row, this.#o.lists, this.#o.ownRelays, signal);
    const relays = targets.filter((url) => !refused.some((r) => r.relay === url));
    // Before the publish: the relay may send the copy back on the inbox before its OK arrives.
    if (row.target.type === 'own') this.#o.ownEchoes?.noteOwnCopy(row.event);
    const fresh = relays.length > 0 ? await this.#o.pool.publish(row.event, { relays, timeoutMs: this.#o.publishTimeoutMs, signal }) : [];
    const results: RelayPublishResult[] = [...fresh, ...refused];
    const accepted = fresh.filter((r) => r.ok).map((r) => r.relay);
    const now = this.#clock.now();
    if (accepted.length > 0) {
      await this.#o.storage.transaction(async (tx) => {
        await tx.outbox.recordAttempt(row.id, { results, accepted, nextAttemptAt: now, now });
        await tx.outbox.markDelivered(row.id, now);
      });
      this.#log.log({ level: 'info', ns: 'outbox', msg: 'delivered', id: row.eventId, kind: row.event.kind, accepted });
      return this.#report({ type: 'delivered', ...base, accepted, results });
    }
    const hopeless = relays.length === 0 || fresh.every((r) => PERMANENT.has(rejectionPrefix(r.message) ?? ''));
    if (hopeless || now >= row.deadlineAt) {
      const why = hopeless ? 'every relay refused the event' : 'no relay accepted it before the deadline';
      const reason = `${why}: ${results.map((r) => `${r.relay} ${r.message}`).join('; ') || 'no relays to publish to'}`;
      await this.#o.storage.transaction(async (tx) => {
        await tx.outbox.recordAttempt(row.id, { results, accepted, nextAttemptAt: now, now });
        await tx.outbox.markFailed(row.id, reason, now);
      });
      this.#log.log({ level: 'warn', ns: 'outbox', msg: 'delivery failed', id: row.eventId, kind: row.event.kind, reason });
      return this.#report({ type: 'failed', ...base, reason, results });
    }
    const nextAttemptAt = now + backoffDelay(row.attempts, { initialMs: 2000, maxMs: 300_000, ...this.#o.backoff }, this.#o.random);
    await this.#o.storage.outbox.recordAttempt(row.id, { results, accepted, nextAttemptAt, now });
    this.#log.log({ level: 'debug', ns: 'outbox', msg: 'will retry', id: row.eventId, results, nextAttemptAt });
    return this.#report({ type: 'retry', ...base, results, nextAttemptAt: Math.min(nextAttemptAt, row.deadlineAt) });
  }

  #report(report: OutboxReport): OutboxReport {
    this.#o.onReport?.(report);
    return report;
  }
}
