/**
 * Lifecycle operations the owner runs from the CLI or control API: create, pause, resume,
 * recover, terminate. Each checks the transition (lifecycle.ts), persists it, tells observers,
 * and runs the matching hook. Recover is committed as a tick so the trajectory shows it and the
 * consecutive-failure count resets in the same transaction.
 */
import type { AgentRecord, StorageStores } from '../storage/types.js';
import { parseAgentConfig, type AgentConfig, type AgentConfigInput } from './agent-config.js';
import { hookContext, safeHook, type LiveAgents } from './agent.js';
import { commitTick } from './commit.js';
import { log, type EngineEnv } from './env.js';
import { AgentNotFoundError, AgentStateError, describeError } from './errors.js';
import { emitCommitted } from './failure.js';
import { assertTransition } from './lifecycle.js';

/** What the lifecycle needs from the engine. */
export interface LifecycleHooks {
  /** The agent has work: queue it. */
  schedule(index: number): void;
  /** Roll back the agent's running tick, if any. */
  abortTick(index: number, reason: Error): void;
  /** Drop the agent's per-sender rate buckets. */
  forgetSender(agentPubkey: string): void;
}

/** Lifecycle operations over one engine's storage and live set. */
export class Lifecycle {
  constructor(
    private readonly env: EngineEnv,
    private readonly live: LiveAgents,
    private readonly hooks: LifecycleHooks,
  ) {}

  /** The agent by name, index or public key, or AgentNotFoundError. */
  async require(ref: string | number): Promise<AgentRecord> {
    const { agents } = this.env.storage;
    const record = typeof ref === 'string' && /^[0-9a-f]{64}$/.test(ref) ? await agents.getByPubkey(ref) : await agents.get(typeof ref === 'string' && /^\d+$/.test(ref) ? Number(ref) : ref);
    if (!record) throw new AgentNotFoundError(String(ref));
    return record;
  }

  #config(record: AgentRecord): AgentConfig {
    return parseAgentConfig({ ...record.config, behavior: record.behavior }, record.name);
  }

  /** Queues the create trigger of a `creating` agent (idempotent). */
  async queueCreate(index: number, now: number, tx: StorageStores = this.env.storage): Promise<void> {
    await tx.inbox.insert({ agentIndex: index, trigger: 'manual', dedupeKey: 'lifecycle:create', payload: { action: 'create' }, now });
  }

  /** Creates the agent row (state `creating`) and its create trigger in one transaction. */
  async create(input: { name: string; behavior: string; config?: AgentConfigInput | Record<string, unknown> }): Promise<AgentRecord> {
    this.live.behavior(input.behavior);
    const config = { ...(input.config ?? {}) } as Record<string, unknown>;
    delete config.behavior;
    parseAgentConfig({ ...config, behavior: input.behavior }, input.name);
    const now = this.env.clock.now();
    const record = await this.env.storage.transaction(async (tx) => {
      const created = await tx.agents.create({
        name: input.name,
        behavior: input.behavior,
        pubkey: (index) => this.env.signerFor(index).getPublicKey(),
        config,
        state: 'creating',
        now,
      });
      await this.queueCreate(created.index, now, tx);
      return created;
    });
    this.env.events.emit({ type: 'agent.state', agent: record.pubkey, at: now, from: 'creating', to: 'creating', reason: 'created' });
    this.hooks.schedule(record.index);
    return record;
  }

  /** active/dormant → paused; the agent leaves memory, its triggers wait. */
  async pause(ref: string | number): Promise<AgentRecord> {
    const record = await this.require(ref);
    if (record.state === 'paused') return record;
    assertTransition(record.name, record.state, 'paused');
    const updated = await this.live.setState(record, 'paused', 'owner pause');
    await this.live.drop(record.index, { keepState: true });
    return updated;
  }

  /** paused → active (loaded, queued triggers run); a failed agent is recovered. */
  async resume(ref: string | number): Promise<AgentRecord> {
    const record = await this.require(ref);
    if (record.state === 'failed') return this.recover(record.index);
    if (record.state !== 'paused') {
      if (record.state === 'active' || record.state === 'dormant') return record;
      throw new AgentStateError(record.name, record.state, 'active');
    }
    const updated = await this.live.setState(record, 'active', 'owner resume');
    this.#loadQuietly(updated);
    this.hooks.schedule(record.index);
    return updated;
  }

  /** failed → active: committed as a manual tick that resets the consecutive-failure count. */
  async recover(ref: string | number): Promise<AgentRecord> {
    const record = await this.require(ref);
    if (record.state !== 'failed') throw new AgentStateError(record.name, record.state, 'active', { cause: new Error('only a failed agent can be recovered') });
    const config = this.#config(record);
    const now = this.env.clock.now();
    const committed = await commitTick(this.env, {
      record,
      config,
      signer: this.env.signerFor(record.index),
      startedAt: now,
      trigger: { type: 'manual', text: '/recover', at: now },
      steps: [{ type: 'state', name: 'recover', at: now, ms: 0, detail: { from: 'failed', to: 'active', lastError: record.lastError ?? null } }],
      intents: [],
      outcome: 'ok',
      usage: {},
      result: { ok: true },
      state: { to: 'active' },
    });
    emitCommitted(this.env, record, committed);
    this.#loadQuietly(committed.record);
    this.hooks.schedule(record.index);
    return committed.record;
  }

  /** any → terminated: alarms deleted, pending triggers refused, running tick rolled back, onTerminate. */
  async terminate(ref: string | number): Promise<AgentRecord> {
    const record = await this.require(ref);
    if (record.state === 'terminated') return record;
    this.hooks.abortTick(record.index, new Error('agent terminated'));
    const { storage, clock } = this.env;
    const now = clock.now();
    const updated = await storage.transaction(async (tx) => {
      for (const s of await tx.schedules.list(record.index)) await tx.schedules.delete(s.id);
      for (const row of await tx.inbox.pending(record.index)) await tx.inbox.markRefused(row.id, 'agent terminated', now);
      return tx.agents.updateState(record.index, 'terminated', { now });
    });
    this.env.events.emit({ type: 'agent.state', agent: record.pubkey, at: now, from: record.state, to: 'terminated' });
    const behavior = this.live.get(record.index)?.behavior ?? this.env.behaviors.get(record.behavior);
    await safeHook(this.env, 'onTerminate', updated, behavior?.onTerminate && (() => behavior.onTerminate?.(hookContext(this.env, updated))));
    await this.live.drop(record.index, { keepState: true });
    this.hooks.forgetSender(record.pubkey);
    return updated;
  }

  #loadQuietly(record: AgentRecord): void {
    try {
      this.live.load(record, this.#config(record));
    } catch (error) {
      log(this.env, 'warn', 'agent could not be loaded', { agent: record.pubkey, error: describeError(error) });
    }
  }
}
