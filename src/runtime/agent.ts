/**
 * Agents in memory. Only an agent that ran recently is here (behavior, signer, LLM handle);
 * a dormant agent is a row in SQLite and nothing else: no timer, closure or cache per agent.
 * One sweep (driven by the engine's wake loop) hibernates the idle ones.
 */
import type { Signer } from '../signer/types.js';
import type { AgentRecord } from '../storage/types.js';
import type { McpSession } from '../think/mcp/types.js';
import type { ThinkProvider } from '../think/types.js';
import type { AgentConfig } from './agent-config.js';
import { log, type EngineEnv } from './env.js';
import { UnknownBehaviorError } from './errors.js';
import { canTransition } from './lifecycle.js';
import type { AgentBehavior, AgentInfo, HookContext } from './types.js';

/** An agent loaded into memory. */
export interface LiveAgent {
  index: number;
  name: string;
  pubkey: string;
  behavior: AgentBehavior;
  signer: Signer;
  think?: ThinkProvider;
  /** The agent's MCP servers, opened when it woke (and `mcpKey`, the config they were opened with). */
  mcp?: McpSession;
  mcpKey?: string;
  lastActiveAt: number;
  /** onWake has not run yet for this stay in memory. */
  wakePending: boolean;
}

/** The public view of an agent record for hooks and behaviors. */
export function agentInfo(record: AgentRecord, ownerPubkey: string): AgentInfo {
  return {
    index: record.index,
    name: record.name,
    pubkey: record.pubkey,
    behavior: record.behavior,
    ownerPubkey,
    state: record.state,
    ticks: record.ticks,
  };
}

/** A HookContext for hooks that run outside a tick. */
export function hookContext(env: EngineEnv, record: AgentRecord): HookContext {
  return {
    agent: agentInfo(record, env.ownerPubkey),
    now: () => env.clock.now(),
    log: (msg, fields) => log(env, 'info', msg, { agent: record.pubkey, ...fields }),
  };
}

/** Calls a hook, logging (never throwing) what it throws. */
export async function safeHook(env: EngineEnv, name: string, record: AgentRecord, fn: (() => unknown) | undefined): Promise<void> {
  if (!fn) return;
  try {
    await fn();
  } catch (error) {
    log(env, 'warn', `${name} hook failed`, { agent: record.pubkey, error: (error as Error)?.message ?? String(error) });
  }
}

/** The live set: load on demand, drop when idle. */
export class LiveAgents {
  readonly #agents = new Map<number, LiveAgent>();

  constructor(
    private readonly env: EngineEnv,
    private readonly idleMs: number,
  ) {}

  get size(): number {
    return this.#agents.size;
  }

  get(index: number): LiveAgent | undefined {
    return this.#agents.get(index);
  }

  /** The behavior registered under a name, or UnknownBehaviorError listing the known ones. */
  behavior(name: string): AgentBehavior {
    const behavior = this.env.behaviors.get(name);
    if (!behavior) throw new UnknownBehaviorError(name, [...this.env.behaviors.keys()]);
    return behavior;
  }

  /** Loads the agent into memory (no state change); returns it and whether it was already there. */
  load(record: AgentRecord, config: AgentConfig): { live: LiveAgent; loaded: boolean } {
    const existing = this.#agents.get(record.index);
    if (existing) {
      existing.lastActiveAt = this.env.clock.now();
      this.#refreshMcp(existing, record, config);
      return { live: existing, loaded: false };
    }
    const behavior = this.behavior(record.behavior);
    const signer = this.env.signerFor(record.index);
    if (signer.getPublicKey() !== record.pubkey) throw new Error(`signer for agent ${record.index} has a different public key than the agent row`);
    const think = this.env.thinkFor?.(record, config);
    const live: LiveAgent = { index: record.index, name: record.name, pubkey: record.pubkey, behavior, signer, lastActiveAt: this.env.clock.now(), wakePending: true, ...(think ? { think } : {}) };
    this.#agents.set(record.index, live);
    this.#refreshMcp(live, record, config);
    return { live, loaded: true };
  }

  /** Opens the agent's MCP servers, or reopens them when its config changed (`agent mcp … add|rm`). */
  #refreshMcp(live: LiveAgent, record: AgentRecord, config: AgentConfig): void {
    const key = JSON.stringify(config.mcp);
    if (live.mcpKey === key) return;
    const old = live.mcp;
    delete live.mcp;
    live.mcpKey = key;
    if (old) void old.close().catch((error: unknown) => log(this.env, 'warn', 'closing MCP servers failed', { agent: record.pubkey, error: String(error) }));
    const session = Object.keys(config.mcp).length > 0 ? this.env.mcpFor?.(record, config) : undefined;
    if (session) live.mcp = session;
  }

  /** Loads the agent and moves a dormant one to active (telling observers). */
  async wake(record: AgentRecord, config: AgentConfig): Promise<LiveAgent> {
    const { live, loaded } = this.load(record, config);
    if (loaded) this.env.events.emit({ type: 'agent.woke', agent: record.pubkey, at: this.env.clock.now() });
    if (record.state === 'dormant') await this.setState(record, 'active');
    return live;
  }

  /** Persists a lifecycle change (if allowed) and emits it; returns the new record. */
  async setState(record: AgentRecord, to: AgentRecord['state'], reason?: string): Promise<AgentRecord> {
    if (record.state === to || !canTransition(record.state, to)) return record;
    const now = this.env.clock.now();
    const updated = await this.env.storage.agents.updateState(record.index, to, { now });
    this.env.events.emit({ type: 'agent.state', agent: record.pubkey, at: now, from: record.state, to, ...(reason ? { reason } : {}) });
    return updated;
  }

  /** Drops the agent from memory (onSleep runs); an active agent becomes dormant unless `keepState`. */
  async drop(index: number, options: { keepState?: boolean } = {}): Promise<void> {
    const live = this.#agents.get(index);
    if (!live) return;
    this.#agents.delete(index);
    const record = await this.env.storage.agents.get(index);
    if (record) await safeHook(this.env, 'onSleep', record, live.behavior.onSleep && (() => live.behavior.onSleep?.(hookContext(this.env, record))));
    // Its MCP servers stop with it: child processes are reaped before the agent counts as asleep.
    await live.mcp?.close().catch((error: unknown) => log(this.env, 'warn', 'closing MCP servers failed', { agent: live.pubkey, error: String(error) }));
    if (!record) return;
    if (!options.keepState && record.state === 'active') await this.setState(record, 'dormant', 'idle');
    this.env.events.emit({ type: 'agent.slept', agent: record.pubkey, at: this.env.clock.now() });
  }

  /** Hibernates every agent idle for idleMs that is not running; returns when the next one falls idle. */
  async sweep(now: number, isRunning: (index: number) => boolean): Promise<number | undefined> {
    let next: number | undefined;
    for (const live of [...this.#agents.values()]) {
      // A running agent falls idle no sooner than idleMs from now (its tick ends later still): planned
      // for, because a tick that sets no alarm does not kick the wake loop when it ends.
      const running = isRunning(live.index);
      const due = running ? now + this.idleMs : live.lastActiveAt + this.idleMs;
      if (!running && due <= now) await this.drop(live.index);
      else next = next === undefined ? due : Math.min(next, due);
    }
    return next;
  }

  /** Every live agent's index. */
  indices(): number[] {
    return [...this.#agents.keys()];
  }
}
