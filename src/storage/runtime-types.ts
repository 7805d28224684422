/** Storage types of the runtime's queues and ledgers: schedules, inbox, ticks, budgets. */
import type { TickRecord } from '../trajectory/types.js';
import type { JsonValue } from './agent-types.js';

/** Restricts a query to the agents one daemon holds by lease (lease-types.ts). */
export interface HolderFilter {
  holder?: string;
}

/** When a schedule fires: once at a time, once after a delay, every N ms, or on a 5-field UTC cron. */
export type ScheduleSpec =
  | { type: 'at'; at: number }
  | { type: 'delayed'; delayMs: number }
  | { type: 'interval'; everyMs: number }
  | { type: 'cron'; expr: string };

/** One stored schedule (alarm). */
export interface ScheduleRecord {
  id: number;
  agentIndex: number;
  spec: ScheduleSpec;
  payload: JsonValue;
  /** Idempotency key, unique per agent. */
  key?: string;
  /** The next time it fires (ms). */
  nextAt: number;
  createdAt: number;
  lastFiredAt?: number;
  fireCount: number;
}

/** What creating a schedule takes. */
export interface NewSchedule {
  agentIndex: number;
  spec: ScheduleSpec;
  payload?: unknown;
  key?: string;
  now: number;
}

/** Alarms. Firing moves interval/cron to the next occurrence strictly after `now` and deletes one-shots. */
export interface ScheduleStore {
  /** Idempotent on (agent, key): an existing schedule with that key wins and `created` is false. */
  create(schedule: NewSchedule): Promise<{ record: ScheduleRecord; created: boolean }>;
  get(id: number): Promise<ScheduleRecord | undefined>;
  getByKey(agentIndex: number, key: string): Promise<ScheduleRecord | undefined>;
  list(agentIndex: number): Promise<ScheduleRecord[]>;
  delete(id: number): Promise<boolean>;
  /** Deletes every schedule of the agent (on terminate); returns how many. */
  deleteAll(agentIndex: number): Promise<number>;
  /** The earliest next_at over all agents (for the wake loop's sleep), or undefined. */
  /** With `holder`: only schedules of agents that daemon holds (every daemon's wake loop sleeps on its own). */
  nextDue(options?: HolderFilter): Promise<number | undefined>;
  /** Schedules due at `now`, earliest first. */
  due(now: number, limit?: number): Promise<ScheduleRecord[]>;
  /** Records a firing; returns the rescheduled record, or undefined for a deleted one-shot. */
  markFired(id: number, now: number): Promise<ScheduleRecord | undefined>;
  /**
   * The wake loop's primitive: for each due schedule, in ONE transaction, queue an 'alarm' inbox
   * row (deduped by schedule id + due time) and mark it fired. Returns what was queued.
   */
  fireDue(now: number, limit?: number, options?: HolderFilter): Promise<Array<{ schedule: ScheduleRecord; inboxId: number; dueAt: number }>>;
}

/** What can wake an agent. */
export type TriggerType = 'dm' | 'mention' | 'alarm' | 'event' | 'manual';

/** An inbox row's state. */
export type InboxStatus = 'pending' | 'done' | 'failed' | 'refused';

/** One durable trigger. */
export interface InboxEntry {
  id: number;
  agentIndex: number;
  trigger: TriggerType;
  eventId?: string;
  sender?: string;
  payload: JsonValue;
  status: InboxStatus;
  attempts: number;
  /** A retried row is not due before this (ms). */
  notBefore: number;
  createdAt: number;
  updatedAt: number;
  reason?: string;
}

/** What inserting a trigger takes. Dedupe is on (agent, dedupeKey ?? eventId) when either is set. */
export interface NewInboxEntry {
  agentIndex: number;
  trigger: TriggerType;
  eventId?: string;
  dedupeKey?: string;
  sender?: string;
  payload?: unknown;
  now: number;
  /**
   * The processed-event record (replay protection) of the event this trigger comes from, written
   * with the row in one transaction, at `now`, whether the row is new or a duplicate: a crash
   * leaves both or neither, and a received DM costs one commit, not two. An existing record keeps
   * its first outcome.
   */
  processed?: { eventId: string; outcome: string };
}

/** The durable trigger queue. */
export interface InboxStore {
  insert(entry: NewInboxEntry): Promise<{ id: number; inserted: boolean }>;
  get(id: number): Promise<InboxEntry | undefined>;
  /** Pending rows of one agent in arrival order; with `now`, only those whose notBefore has passed. */
  pending(agentIndex: number, options?: { now?: number; limit?: number }): Promise<InboxEntry[]>;
  /** Agents with at least one pending row (due at `now` when given). */
  agentsWithPending(now?: number): Promise<number[]>;
  markDone(id: number, now: number): Promise<boolean>;
  markFailed(id: number, reason: string, now: number): Promise<boolean>;
  markRefused(id: number, reason: string, now: number): Promise<boolean>;
  /** Counts a failed attempt and defers the row to `retryAt`; it stays pending. */
  recordAttempt(id: number, options: { error: string; retryAt: number; now: number }): Promise<boolean>;
  /** Deletes finished rows last updated before `olderThan`. */
  prune(olderThan: number): Promise<number>;
  /** Pending rows per agent with the oldest one's `createdAt` (metrics). */
  depth(): Promise<Array<{ agentIndex: number; pending: number; oldestCreatedAt: number }>>;
}

/** The local trajectory: one row per tick. */
export interface TickStore {
  /** The seq the agent's next tick gets (1 for the first). */
  nextSeq(agentIndex: number): Promise<number>;
  /** StorageConflictError if the seq exists. */
  append(agentIndex: number, record: TickRecord): Promise<void>;
  /** Ascending by seq. `afterSeq` pages forward; `since` (ms) filters by start; `limit` alone gives the latest N. */
  list(agentIndex: number, options?: { afterSeq?: number; since?: number; limit?: number }): Promise<TickRecord[]>;
  last(agentIndex: number): Promise<TickRecord | undefined>;
  /**
   * The event ids that triggered the agent's latest ticks (the newest `limit` started at or after
   * `since`), ascending by seq, with their start; ticks without one are left out. Read from the
   * record in the database, not parsed whole: a snapshot asks for days of ticks each time.
   */
  triggers(agentIndex: number, options: { since: number; limit: number }): Promise<Array<{ eventId: string; startedAt: number }>>;
  get(agentIndex: number, seq: number): Promise<TickRecord | undefined>;
  /** Ticks not yet published as trajectory events, ascending. */
  unpublished(agentIndex: number, limit?: number): Promise<TickRecord[]>;
  markPublished(agentIndex: number, seq: number, eventId: string, now: number): Promise<boolean>;
}

/** The daily metrics a budget limits. */
export type UsageMetric = 'computeMs' | 'llmCalls' | 'tokens' | 'sats';

/** Usage to add. */
export type UsageDelta = Partial<Record<UsageMetric, number>>;

/** One agent's usage for one UTC day (`YYYY-MM-DD`), with which metrics the owner was told about. */
export interface DailyUsage extends Record<UsageMetric, number> {
  day: string;
  notified80: UsageMetric[];
  notified100: UsageMetric[];
}

/** The budget ledger. */
export interface BudgetLedger {
  add(agentIndex: number, day: string, delta: UsageDelta): Promise<DailyUsage>;
  get(agentIndex: number, day: string): Promise<DailyUsage>;
  /** Sets the 80%/100% flag; true only the first time per agent, day and metric (so ONE DM is sent). */
  markNotified(agentIndex: number, day: string, metric: UsageMetric, level: 80 | 100): Promise<boolean>;
  /** The agent's stored bytes (kv + facts + messages + goals), kept as a running total. */
  storageBytes(agentIndex: number): Promise<number>;
}

