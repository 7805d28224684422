/**
 * The Runtime: hosts every agent of one database. Triggers arrive (`deliver` from the messaging
 * receiver, `deliverEvent` for watched filters, `poke`, alarms from the wake loop) as committed
 * inbox rows; the engine runs one tick at a time per agent, in arrival order, and at most
 * `concurrency` ticks across agents. Composition (SQLite, relays, outbox publisher, control API)
 * happens in the CLI; everything here is injected.
 */
import { availableParallelism } from 'node:os';
import type { NostrEvent } from '../protocol/event.js';
import { matchFilter } from '../protocol/filter.js';
import type { InboundMessage, MessageSink, SinkOptions } from '../relay/types.js';
import type { Signer } from '../signer/types.js';
import type { AgentRecord, AgentStorage, Fence, InboxEntry, JsonValue } from '../storage/types.js';
import type { McpSession } from '../think/mcp/types.js';
import type { ThinkProvider } from '../think/types.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { parseAgentConfig, type AgentConfig, type AgentConfigInput } from './agent-config.js';
import { LiveAgents } from './agent.js';
import { parseApprovalCommand } from './approvals.js';
import { awaitsReplyFrom } from './delegation.js';
import { log, type EngineEnv } from './env.js';
import { RuntimeStoppingError, WebhookNotFoundError, WebhookReplayError, describeError } from './errors.js';
import { RuntimeEvents } from './events.js';
import { Lifecycle } from './lifecycle-ops.js';
import { protocolOutboundBuilder, systemEntropy } from './outbound.js';
import { decideInbound, parseOwnerCommand } from './policy.js';
import { RateLimiter } from './rate-limit.js';
import { TRIGGER_CLASSES, triggerPriority } from './priority.js';
import { WakeLoop, type WakeLoopStatus } from './scheduler.js';
import { runTick, type TickEnd, type TickHost } from './tick.js';
import { messageEntry } from './triggers.js';
import type { AgentBehavior, BehaviorRegistry, OutboundBuilder, OutboundEntropy, TrajectorySink } from './types.js';
import { DEFAULT_WATCH_RATE, type Watch } from './watch.js';

/** What became of a watched event handed to `deliverEvent`. */
export type WatchOutcome = 'queued' | 'duplicate' | 'rate-limited' | 'no-match';

/** A webhook delivery whose signature the HTTP layer checked. */
export interface WebhookInput {
  hook: string;
  deliveryId: string;
  /** The hex HMAC of the body: a signed body is accepted once, whatever delivery id comes with it. */
  signature: string;
  body: JsonValue;
}


/** Options of the Runtime. Defaults in brackets. */
export interface RuntimeOptions {
  storage: AgentStorage;
  /** The agent's signer (NIP-06 account index + 1); its public key must match the agent row. */
  signerFor: (agentIndex: number) => Signer;
  /** The owner's public key (hex): owner commands, notices and `owner-only` policy. */
  ownerPubkey: string;
  /** Behaviors by name (the built-ins come from src/behaviors/index.ts). */
  behaviors: BehaviorRegistry;
  /** [systemClock] */
  clock?: Clock;
  /** [silentLogger] */
  logger?: Logger;
  /** Ticks running at once across agents. [2 × cores] */
  concurrency?: number;
  /** Idle time before an agent leaves memory, ms. [60 000] */
  idleMs?: number;
  /** Consecutive failed ticks before the agent goes `failed`. [3] */
  maxConsecutiveFailures?: number;
  /** First retry delay, doubled per attempt, ms. [1000] */
  retryBaseMs?: number;
  /** Longest retry delay, ms. [60 000] */
  retryMaxMs?: number;
  /** How long the outbox keeps trying to publish a tick's events, ms. [3 days] */
  outboxDeadlineMs?: number;
  /** Builds signed events from reply/DM/note intents. [NIP-17/04/10 builder over src/protocol] */
  outbound?: OutboundBuilder;
  /** Randomness for gift wraps. [platform CSPRNG] */
  entropy?: (unixSeconds: number) => OutboundEntropy;
  /** The agent's LLM, if it has one. [none] */
  thinkFor?: (agent: AgentRecord, config: AgentConfig) => ThinkProvider | undefined;
  /** Opens the agent's MCP servers when it wakes; the session is closed (children reaped) when it sleeps or the runtime stops. [none] */
  mcpFor?: (agent: AgentRecord, config: AgentConfig) => McpSession | undefined;
  /** Which agents this runtime ticks (the ones its daemon holds by lease); the others are left alone. [all] */
  hosts?: (agentIndex: number) => boolean;
  /**
   * Many daemons on one database: `start` adopts no agent (the daemon calls `adopt` as it gains
   * leases and `release` as it loses them), every commit carries `fenceFor(index)`, and alarms fire
   * only for agents `holder` holds. [off: one runtime owns every agent of the database]
   */
  leases?: { holder: string; fenceFor: (agentIndex: number) => Fence | undefined };
  /** Publishes each committed tick as a signed trajectory event (queued in the same transaction). [none] */
  trajectory?: TrajectorySink;
  /** Per-sender rate limiter (shared across agents). [new RateLimiter()] */
  rateLimiter?: RateLimiter;
}

/** What `status` reports for one agent. */
export interface AgentStatus {
  record: AgentRecord;
  inMemory: boolean;
  running: boolean;
  pendingTriggers: number;
}

/** The runtime engine. */
export class Runtime {
  /** Tick, step, state and budget events for the control API and the TUI. */
  readonly events: RuntimeEvents;
  /** Lifecycle operations: create, pause, resume, recover, terminate. */
  readonly lifecycle: Lifecycle;
  readonly #env: EngineEnv;
  readonly #live: LiveAgents;
  readonly #limiter: RateLimiter;
  readonly #concurrency: number;
  readonly #ready = new Set<number>();
  /**
   * The head (oldest pending) trigger of ready agents, read after the agent's last tick or to order
   * them, and kept until the agent next starts a tick: its head changes only then (new triggers
   * queue behind it; terminate refuses it, and a terminated row stops the start), so the start
   * takes it instead of reading it again.
   */
  readonly #heads = new Map<number, InboxEntry | null>();
  readonly #running = new Map<number, { promise: Promise<void>; controller: AbortController }>();
  readonly #retryAt = new Map<number, number>();
  readonly #idleWaiters: Array<() => void> = [];
  readonly #loop: WakeLoop;
  readonly #hosts: (agentIndex: number) => boolean;
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  #pumping = false;
  #pumpAgain = false;

  constructor(options: RuntimeOptions) {
    const behaviors = options.behaviors instanceof Map ? options.behaviors : new Map(Object.entries(options.behaviors as Record<string, AgentBehavior>));
    const logger = options.logger ?? silentLogger;
    this.events = new RuntimeEvents((error) => logger.log({ level: 'warn', ns: 'runtime', msg: 'event listener threw', error: describeError(error) }));
    this.#env = {
      storage: options.storage,
      clock: options.clock ?? systemClock,
      logger,
      events: this.events,
      ownerPubkey: options.ownerPubkey,
      behaviors,
      signerFor: options.signerFor,
      outbound: options.outbound ?? protocolOutboundBuilder,
      entropy: options.entropy ?? systemEntropy,
      ...(options.thinkFor ? { thinkFor: options.thinkFor } : {}),
      ...(options.mcpFor ? { mcpFor: options.mcpFor } : {}),
      ...(options.trajectory ? { trajectory: options.trajectory } : {}),
      maxConsecutiveFailures: options.maxConsecutiveFailures ?? 3,
      retryBaseMs: options.retryBaseMs ?? 1000,
      retryMaxMs: options.retryMaxMs ?? 60_000,
      outboxDeadlineMs: options.outboxDeadlineMs ?? 3 * 24 * 3600 * 1000,
      ...(options.leases ? { fenceFor: options.leases.fenceFor, holder: options.leases.holder } : {}),
    };
    this.#concurrency = Math.max(1, options.concurrency ?? 2 * availableParallelism());
    this.#hosts = options.hosts ?? (() => true);
    this.#live = new LiveAgents(this.#env, options.idleMs ?? 60_000);
    this.#limiter = options.rateLimiter ?? new RateLimiter();
    this.#loop = new WakeLoop(this.#env.clock, (now) => this.#housekeeping(now), (error) => log(this.#env, 'error', 'wake loop error', { error: describeError(error) }));
    this.lifecycle = new Lifecycle(this.#env, this.#live, {
      schedule: (index) => this.#schedule(index),
      abortTick: (index, reason) => this.#running.get(index)?.controller.abort(reason),
      forgetSender: (pubkey) => this.#limiter.forget(`${pubkey}:`),
    });
  }

  /** The MessageSink the messaging receiver calls. */
  readonly sink: MessageSink = (message, options) => this.deliver(message, options);

  /** Loads nothing eagerly: normalizes crashed states, queues agents with pending triggers, starts the wake loop. */
  async start(): Promise<void> {
    if (this.#state !== 'new') return;
    this.#state = 'running';
    if (!this.#env.fenceFor) {
      const now = this.#env.clock.now();
      for (const record of await this.#env.storage.agents.list()) await this.#normalize(record, now);
      for (const index of await this.#env.storage.inbox.agentsWithPending()) this.#ready.add(index);
    }
    this.#loop.start();
    this.#pump();
  }

  /** Nothing of a newly hosted agent is in memory: an `active` row is a crash (or a former holder's) leftover. */
  async #normalize(record: AgentRecord, now: number): Promise<void> {
    if (record.state === 'active') await this.#env.storage.agents.updateState(record.index, 'dormant', { now });
    if (record.state === 'creating') await this.lifecycle.queueCreate(record.index, now);
  }

  /**
   * Takes agents on (their leases were just gained): state normalized, and their pending triggers,
   * due alarms and retries run from now on. Call once `hosts` answers true for them. `records`: their
   * rows as the caller just read them (a daemon's start takes thousands at once: no read per agent).
   */
  async adopt(indexes: number[], records?: readonly AgentRecord[]): Promise<void> {
    if (this.#state !== 'running' || indexes.length === 0) return;
    const now = this.#env.clock.now();
    const known = records && new Map(records.map((r) => [r.index, r]));
    for (const index of indexes) {
      const record = known?.get(index) ?? (await this.#env.storage.agents.get(index));
      if (record && record.state !== 'terminated') await this.#normalize(record, now);
    }
    await this.rescan(indexes);
    this.#loop.kick();
  }

  /** Schedules those of `indexes` with pending triggers (rows another daemon queued for an agent this one holds). */
  async rescan(indexes: number[]): Promise<void> {
    if (this.#state !== 'running' || indexes.length === 0) return;
    const wanted = new Set(indexes);
    let any = false;
    for (const index of await this.#env.storage.inbox.agentsWithPending()) {
      if (!wanted.has(index) || this.#running.has(index) || this.#ready.has(index)) continue;
      this.#ready.add(index);
      any = true;
    }
    if (any) this.#pump();
  }

  /**
   * Lets agents go (their leases are being handed over, or were lost): no new ticks (`hosts` already
   * answers false), the running tick finishes — or, with `abort`, rolls back — and they leave memory.
   */
  async release(indexes: number[], options: { abort?: boolean } = {}): Promise<void> {
    const waits: Array<Promise<void>> = [];
    for (const index of indexes) {
      this.#ready.delete(index);
      this.#retryAt.delete(index);
      this.#heads.delete(index);
      const running = this.#running.get(index);
      if (running) {
        if (options.abort) running.controller.abort(new RuntimeStoppingError());
        waits.push(running.promise);
      }
    }
    await Promise.allSettled(waits);
    for (const index of indexes) if (!this.#running.has(index)) await this.#live.drop(index);
  }

  /** True while a tick of the agent runs (a handover prefers idle agents). */
  busy(index: number): boolean {
    return this.#running.has(index);
  }

  /**
   * Stops: no new ticks; running ticks finish and commit, unless `signal` aborts first, in which
   * case they are rolled back and their triggers stay pending for the next start.
   */
  async stop(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    await this.#loop.stop();
    const abortAll = (): void => {
      for (const { controller } of this.#running.values()) controller.abort(new RuntimeStoppingError());
    };
    if (options.signal?.aborted) abortAll();
    else options.signal?.addEventListener('abort', abortAll, { once: true });
    await Promise.allSettled([...this.#running.values()].map((r) => r.promise));
    options.signal?.removeEventListener('abort', abortAll);
    for (const index of this.#live.indices()) await this.#live.drop(index);
    this.#state = 'stopped';
    this.#wakeIdleWaiters();
  }

  /**
   * Records an inbound DM or mention as a trigger (policy and rate limit first); resolves once it is
   * durable. `options.mark` (the receiver's processed record of the event) is written in the same
   * transaction as the row, accepted or refused; resolves true when it was (see MessageSink).
   */
  async deliver(message: InboundMessage, options: SinkOptions = {}): Promise<boolean> {
    options.signal?.throwIfAborted();
    const { storage, clock } = this.#env;
    const record = await storage.agents.getByPubkey(message.agentPubkey);
    if (!record || record.state === 'terminated') {
      log(this.#env, 'debug', 'message for no hosted agent dropped', { agent: message.agentPubkey, event: message.eventId });
      return false;
    }
    const mark = options.mark;
    const now = clock.now();
    const config = this.#configOrDefault(record);
    const ownerCommand = message.kind === 'dm' && message.sender === this.#env.ownerPubkey ? parseOwnerCommand(message.text) : undefined;
    // `/approve CODE` and `/deny CODE` count only from the owner's key; anyone else's is refused (and recorded by a tick).
    const approval = message.kind === 'dm' ? parseApprovalCommand(message.text) : undefined;
    const approvalExtra = approval ? (message.sender === this.#env.ownerPubkey ? { approval } : { approvalRefused: true as const }) : {};
    const policy = config.dmPolicy ?? this.#env.behaviors.get(record.behavior)?.defaultDmPolicy ?? 'open';
    // A delegate's reply is let through whatever the policy: the agent asked it. (The owner is let through anyway.)
    const awaited = message.kind === 'dm' && message.sender !== this.#env.ownerPubkey && (await awaitsReplyFrom(storage.kv(record.index), message.sender, message.subject));
    const verdict = awaited
      ? ({ action: 'accept' } as const)
      : decideInbound({ agentPubkey: record.pubkey, sender: message.sender, ownerPubkey: this.#env.ownerPubkey, policy, allowlist: config.allowlist, rateLimit: config.rateLimit, now }, this.#limiter);
    if (verdict.action === 'accept' || (verdict.action === 'rate-limited' && verdict.notify)) {
      const extra = verdict.action === 'rate-limited' ? { slowDown: { retryAfterMs: verdict.retryAfterMs } } : ownerCommand ? { ownerCommand } : approvalExtra;
      const entry = messageEntry(record.index, message, extra, now);
      if ((await storage.inbox.insert(mark ? { ...entry, processed: mark } : entry)).inserted) this.#schedule(record.index);
      return mark !== undefined;
    }
    const reason = verdict.action === 'refuse' ? verdict.reason : 'rate-limited';
    // A refused message is kept as a record (so a replay stays refused), without its text: row, refusal and processed mark in one transaction.
    const refused = await storage.transaction(async (tx) => {
      const row = await tx.inbox.insert({ agentIndex: record.index, trigger: message.kind, eventId: message.eventId, sender: message.sender, payload: { refused: reason }, now, ...(mark ? { processed: mark } : {}) });
      if (row.inserted) await tx.inbox.markRefused(row.id, reason, now);
      return row.inserted;
    });
    if (refused) this.events.emit({ type: 'inbound.refused', agent: record.pubkey, at: now, reason, from: message.sender, eventId: message.eventId });
    return mark !== undefined;
  }

  /**
   * Records a watched event as an `event` trigger when it matches one of the agent's watches (only
   * `watchId` when given): deduplicated by event id, rate-limited per watch (the rest dropped and
   * reported as `inbound.refused`). Resolves once the row is committed.
   */
  async deliverEvent(agentPubkey: string, event: NostrEvent, options: { watchId?: string } = {}): Promise<WatchOutcome> {
    const { storage, clock } = this.#env;
    const record = await storage.agents.getByPubkey(agentPubkey);
    if (!record || record.state === 'terminated') return 'no-match';
    const config = this.#configOrDefault(record);
    const watch = config.watch.find((w) => (options.watchId === undefined || w.id === options.watchId) && matchFilter(w.filter, event));
    if (!watch) return 'no-match';
    // Seen before (another relay, a catch-up overlap): no token is spent on it.
    const seenKey = `watch:${record.index}:${event.id}`;
    if (await storage.processed.isProcessed(seenKey)) return 'duplicate';
    const now = clock.now();
    if (!this.#limiter.take(`watch:${record.pubkey}:${watch.id}`, watch.rate ?? DEFAULT_WATCH_RATE, now).allowed) {
      this.events.emit({ type: 'inbound.refused', agent: record.pubkey, at: now, reason: `rate-limited: watch ${watch.id}`, from: event.pubkey, eventId: event.id });
      return 'rate-limited';
    }
    const ref = { id: watch.id, ...(watch.prompt !== undefined ? { prompt: watch.prompt } : {}) };
    // The inbox row and the processed mark in ONE transaction: a crash between them cannot lose or repeat the event.
    const inserted = await storage.transaction(async (tx) => {
      const row = await tx.inbox.insert({ agentIndex: record.index, trigger: 'event', eventId: event.id, sender: event.pubkey, payload: { event, watch: ref }, now });
      await tx.processed.markProcessed(seenKey, row.inserted ? 'queued' : 'duplicate', now);
      return row.inserted;
    });
    if (!inserted) return 'duplicate';
    this.#schedule(record.index);
    return 'queued';
  }

  /**
   * Records a webhook delivery (signature already checked) as an `event` trigger. A delivery id seen
   * before for this hook, or a signed body seen before under another id, is a replay: nothing is
   * written. Resolves once the row is committed (the HTTP layer answers 202 only then).
   */
  async deliverWebhook(ref: string | number, input: WebhookInput): Promise<{ outcome: 'queued' | 'replay'; inboxId?: number }> {
    const { storage, clock } = this.#env;
    const record = await this.lifecycle.require(ref);
    const hook = record.state === 'terminated' ? undefined : this.#configOrDefault(record).hooks.find((h) => h.name === input.hook);
    if (!hook) throw new WebhookNotFoundError(record.name, input.hook);
    const now = clock.now();
    const webhook = { hook: hook.name, deliveryId: input.deliveryId, body: input.body, receivedAt: now, ...(hook.prompt !== undefined ? { prompt: hook.prompt } : {}) };
    let inboxId: number | undefined;
    try {
      inboxId = await storage.transaction(async (tx) => {
        const row = await tx.inbox.insert({ agentIndex: record.index, trigger: 'event', dedupeKey: `hook:${hook.name}:${input.deliveryId}`, payload: { webhook }, now });
        if (!row.inserted) throw new WebhookReplayError(input.hook, input.deliveryId);
        if (!(await tx.processed.markProcessed(`hook:${record.index}:${hook.name}:${input.signature}`, 'queued', now))) throw new WebhookReplayError(input.hook, input.deliveryId);
        return row.id;
      });
    } catch (error) {
      if (error instanceof WebhookReplayError) return { outcome: 'replay' };
      throw error;
    }
    this.#schedule(record.index);
    return { outcome: 'queued', ...(inboxId !== undefined ? { inboxId } : {}) };
  }

  /** Every non-terminated agent's watches (what the composition root subscribes to). */
  async watches(records?: readonly AgentRecord[]): Promise<Array<{ agentIndex: number; agentPubkey: string; watches: Watch[] }>> {
    // Only configs that list watches are parsed: a daemon start refreshes this for thousands of agents that have none.
    return (records ?? (await this.#env.storage.agents.list()))
      .filter((r) => r.state !== 'terminated' && Array.isArray(r.config.watch) && r.config.watch.length > 0)
      .map((r) => ({ agentIndex: r.index, agentPubkey: r.pubkey, watches: this.#configOrDefault(r).watch }))
      .filter((w) => w.watches.length > 0);
  }

  /** A manual trigger (CLI `agent send`, control API): the agent's onMessage gets `text` from the owner (or `from`). */
  async poke(ref: string | number, text: string, options: { from?: string } = {}): Promise<{ inboxId: number }> {
    const record = await this.lifecycle.require(ref);
    if (record.state === 'terminated') throw new Error(`agent "${record.name}" is terminated`);
    const payload = { text, ...(options.from ? { from: options.from } : {}) };
    const { id } = await this.#env.storage.inbox.insert({ agentIndex: record.index, trigger: 'manual', sender: options.from ?? this.#env.ownerPubkey, payload, now: this.#env.clock.now() });
    this.#schedule(record.index);
    return { inboxId: id };
  }

  /** Creates an agent (state `creating`); its first tick runs onCreate and makes it active. */
  create(input: { name: string; behavior: string; config?: AgentConfigInput | Record<string, unknown> }): Promise<AgentRecord> {
    return this.lifecycle.create(input);
  }

  /** Owner pause: triggers stay queued until resume. */
  pause(ref: string | number): Promise<AgentRecord> {
    return this.lifecycle.pause(ref);
  }

  /** Resumes a paused agent (or recovers a failed one). */
  resume(ref: string | number): Promise<AgentRecord> {
    return this.lifecycle.resume(ref);
  }

  /** Brings a failed agent back (consecutive failures reset, recorded as a tick). */
  recover(ref: string | number): Promise<AgentRecord> {
    return this.lifecycle.recover(ref);
  }

  /** Terminates an agent: alarms deleted, pending triggers refused, running tick rolled back. */
  terminate(ref: string | number): Promise<AgentRecord> {
    return this.lifecycle.terminate(ref);
  }

  /** One agent's runtime status. */
  async status(ref: string | number): Promise<AgentStatus> {
    const record = await this.lifecycle.require(ref);
    const pending = await this.#env.storage.inbox.pending(record.index);
    return {
      record,
      inMemory: this.#live.get(record.index) !== undefined,
      running: this.#running.has(record.index),
      pendingTriggers: pending.length,
    };
  }

  /** Counts for health checks and benchmarks. */
  stats(): { inMemory: number; running: number; ready: number; deferred: number; concurrency: number } {
    return { inMemory: this.#live.size, running: this.#running.size, ready: this.#ready.size, deferred: this.#retryAt.size, concurrency: this.#concurrency };
  }

  /** The wake loop's liveness (for `/readyz`): running, and when it last finished a pass. */
  wakeLoop(): WakeLoopStatus {
    return this.#loop.status();
  }

  /** Resolves when no tick is running and none is ready to start (deferred retries and alarms may still be due later). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #isIdle(): boolean {
    return this.#running.size === 0 && this.#ready.size === 0 && !this.#pumping;
  }

  #wakeIdleWaiters(): void {
    if (!this.#isIdle() && this.#state === 'running') return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  #configOrDefault(record: AgentRecord): AgentConfig {
    try {
      return parseAgentConfig({ ...record.config, behavior: record.behavior }, record.name);
    } catch (error) {
      log(this.#env, 'warn', 'agent config invalid; using defaults', { agent: record.pubkey, error: describeError(error) });
      return parseAgentConfig({ behavior: record.behavior });
    }
  }

  /** Marks the agent as having work and starts what fits. */
  #schedule(index: number): void {
    this.#ready.add(index);
    this.#pump();
  }

  /**
   * Starts what fits. Reading each agent's next trigger is async, so passes are serialized: a call
   * while a pass runs asks for one more pass after it (an agent can never be started twice).
   */
  #pump(): void {
    this.#pumpAgain = true;
    if (this.#pumping) return;
    this.#pumping = true;
    void this.#pumpPasses();
  }

  async #pumpPasses(): Promise<void> {
    try {
      while (this.#pumpAgain) {
        this.#pumpAgain = false;
        if (this.#state === 'running') await this.#pass();
      }
    } finally {
      // Reset in the same synchronous step that saw no pass was asked for, so a #pump() call can
      // never fall between the last check and the reset (and be lost).
      this.#pumping = false;
    }
    this.#wakeIdleWaiters();
  }

  /** One pass: starts the ready agents that fit, in priority order. */
  async #pass(): Promise<void> {
    // No slot free: nothing can start, so nothing is ordered (a trigger queued while every slot is
    // busy used to order every waiting agent). A tick's end pumps again once its slot is free.
    if (this.#running.size >= this.#concurrency) return;
    let order: number[];
    try {
      order = await this.#startOrder();
    } catch (error) {
      log(this.#env, 'error', 'could not order the ready agents', { error: describeError(error) });
      return;
    }
    for (const index of order) {
      if (this.#state !== 'running' || this.#running.size >= this.#concurrency) break;
      if (this.#running.has(index)) continue;
      const head = this.#heads.get(index) ?? undefined;
      this.#ready.delete(index);
      this.#heads.delete(index);
      // Another daemon's shard: its triggers wait in this database for that daemon.
      if (!this.#hosts(index)) continue;
      let next: { entry: InboxEntry; record: AgentRecord } | undefined;
      try {
        next = await this.#nextEntry(index, head);
      } catch (error) {
        log(this.#env, 'error', 'could not read the inbox', { agentIndex: index, error: describeError(error) });
      }
      if (next && this.#state === 'running') this.#start(index, next.entry, next.record);
      else if (next) this.#ready.add(index);
    }
  }

  /**
   * The ready agents in the order their ticks should start: arrival order while there is room for
   * all; when more are ready than can start, by the priority of each one's next trigger (the owner's
   * messages and due alarms first, watched events last; priority.ts), arrival order among equals.
   */
  async #startOrder(): Promise<number[]> {
    const ready = [...this.#ready].filter((index) => !this.#running.has(index));
    if (ready.length <= this.#concurrency - this.#running.size) return ready;
    const now = this.#env.clock.now();
    // One list per class (priority.ts), each in arrival order: a stable sort in one pass. With
    // hundreds of agents waiting for a tick (a DM burst), a comparison sort per pass was ~1 % of the daemon.
    const byClass: number[][] = Array.from({ length: TRIGGER_CLASSES }, () => []);
    for (const index of ready) {
      let head = this.#heads.get(index);
      if (head === undefined) {
        try {
          head = (await this.#env.storage.inbox.pending(index, { limit: 1 }))[0] ?? null;
        } catch {
          head = null;
        }
        this.#heads.set(index, head);
      }
      const rank = head ? triggerPriority(head, this.#env.ownerPubkey, now) : 0;
      byClass[rank]!.push(index);
    }
    return byClass.flat();
  }

  #start(index: number, entry: InboxEntry, record: AgentRecord): void {
    const controller = new AbortController();
    const host: TickHost = { env: this.#env, live: this.#live, signal: controller.signal, retryAt: (i, at) => this.#deferUntil(i, at) };
    let end: TickEnd = 'replan';
    const promise = runTick(host, index, entry, record)
      .then((e) => void (end = e))
      .catch((error) => log(this.#env, 'error', 'tick crashed', { agentIndex: index, error: describeError(error) }))
      .then(async () => {
        try {
          // The agent's next trigger, if any, is its head until its next tick starts (see #heads).
          const next = this.#state === 'running' ? (await this.#env.storage.inbox.pending(index, { limit: 1 }))[0] : undefined;
          if (next) {
            this.#heads.set(index, next);
            this.#ready.add(index);
          }
        } catch (error) {
          // Storage gone (closing, disk error): the trigger is still pending in storage for the next start.
          log(this.#env, 'error', 'could not read the inbox after a tick', { agentIndex: index, error: describeError(error) });
        }
      })
      .finally(() => {
        this.#running.delete(index);
        this.#pump();
        // A quiet tick changed nothing the wake loop plans by (alarms, who is in memory): no pass for it.
        if (end === 'replan') this.#loop.kick();
      });
    this.#running.set(index, { promise, controller });
  }

  /**
   * The agent's next row to run (the oldest pending one; owner commands only while paused or failed),
   * with the agent row read for it. `head`: the oldest pending row #startOrder read since the agent's
   * last tick, still its oldest (see #heads); the agent row is read fresh either way.
   */
  async #nextEntry(index: number, head?: InboxEntry): Promise<{ entry: InboxEntry; record: AgentRecord } | undefined> {
    const { storage, clock } = this.#env;
    // The row and the oldest trigger are read together (on PostgreSQL one pipelined round trip, not two).
    const [record, pending] = await Promise.all([storage.agents.get(index), head ? [head] : storage.inbox.pending(index, { limit: 1 })]);
    if (!record || record.state === 'terminated') return undefined;
    const now = clock.now();
    if (record.state === 'paused' || record.state === 'failed') {
      const command = (await storage.inbox.pending(index, { now })).find((e) => e.sender === this.#env.ownerPubkey && (e.payload as { ownerCommand?: string } | null)?.ownerCommand !== undefined);
      return command && { entry: command, record };
    }
    const oldest = pending[0];
    if (oldest && oldest.notBefore > now) {
      this.#deferUntil(index, oldest.notBefore);
      return undefined;
    }
    return oldest && { entry: oldest, record };
  }

  #deferUntil(index: number, at: number): void {
    const current = this.#retryAt.get(index);
    if (current === undefined || at < current) this.#retryAt.set(index, at);
    this.#loop.kick();
  }

  /** One pass of the wake loop; returns when it needs to run next. */
  async #housekeeping(now: number): Promise<number | undefined> {
    const { storage } = this.#env;
    const held = this.#env.holder !== undefined ? { holder: this.#env.holder } : undefined;
    for (let fired = await storage.schedules.fireDue(now, 200, held); ; fired = await storage.schedules.fireDue(now, 200, held)) {
      for (const f of fired) {
        this.#ready.add(f.schedule.agentIndex);
        const record = await storage.agents.get(f.schedule.agentIndex);
        if (record) this.events.emit({ type: 'alarm.fired', agent: record.pubkey, at: now, scheduleId: f.schedule.id, dueAt: f.dueAt });
      }
      if (fired.length < 200) break;
    }
    for (const [index, at] of this.#retryAt) {
      if (at > now) continue;
      this.#retryAt.delete(index);
      this.#ready.add(index);
    }
    this.#pump();
    const nextIdle = await this.#live.sweep(now, (index) => this.#running.has(index));
    const candidates = [await storage.schedules.nextDue(held), nextIdle, ...this.#retryAt.values()].filter((t): t is number => t !== undefined);
    return candidates.length > 0 ? Math.min(...candidates) : undefined;
  }
}
