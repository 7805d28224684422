/** The daemon's ControlHandler: the control API's calls mapped onto the runtime and storage. */
import type { AgentAction, AgentHolder, AgentSummary, ControlHandler, CreateAgentRequest, DaemonOverview } from '../control/types.js';
import { ControlError } from '../control/types.js';
import { npubEncode } from '../protocol/nip19.js';
import type { WsRelayPool } from '../relay/relay-pool.js';
import type { Runtime } from '../runtime/engine.js';
import { AgentNotFoundError, AgentStateError, UnknownBehaviorError } from '../runtime/errors.js';
import { AgentConfigError } from '../runtime/agent-config.js';
import type { Signer } from '../signer/types.js';
import type { AgentRecord, AgentStorage } from '../storage/types.js';
import { checkCreateRequest, leaseHolders, summarize } from './agents.js';
import { UsageError } from './errors.js';

/** What the handler needs from the daemon. */
export interface ControlHandlerOptions {
  storage: AgentStorage;
  runtime: Runtime;
  owner: Signer;
  pool: Pick<WsRelayPool, 'status'>;
  defaultRelays: string[];
  /** Loads a module behavior into the registry before an agent using it is created. */
  prepareBehavior: (behavior: string) => Promise<void>;
  /** Called after an agent was created (the daemon subscribes it and publishes its profile). */
  onCreated: (record: AgentRecord) => void;
  /** Called after an agent was terminated (the daemon stops listening for it). */
  onTerminated: (record: AgentRecord) => void;
}

/** Maps runtime errors to HTTP statuses so the CLI can print them as they are. */
async function mapped<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof AgentNotFoundError) throw new ControlError(error.message, 404, { cause: error });
    if (error instanceof AgentStateError) throw new ControlError(error.message, 409, { cause: error });
    if (error instanceof UsageError || error instanceof UnknownBehaviorError || error instanceof AgentConfigError) throw new ControlError(error.message, 400, { cause: error });
    throw error;
  }
}

/** Builds the handler. */
export function createControlHandler(o: ControlHandlerOptions): ControlHandler {
  const startedAt = Date.now();
  const describe = async (record: AgentRecord, holders?: Map<number, AgentHolder>): Promise<AgentSummary> => ({
    ...(await summarize(o.storage, record, Date.now(), holders ?? (await leaseHolders(o.storage, Date.now())))),
    pending: (await o.storage.inbox.pending(record.index)).length,
  });
  const find = async (ref: string): Promise<AgentRecord> => {
    const record = (await o.storage.agents.get(/^\d+$/.test(ref) ? Number(ref) : ref)) ?? (await o.storage.agents.get(ref));
    if (!record) throw new ControlError(`no agent named "${ref}"`, 404, { code: 'AGENT_NOT_FOUND' });
    return record;
  };
  return {
    async overview(): Promise<DaemonOverview> {
      const holders = await leaseHolders(o.storage, Date.now());
      const agents = await Promise.all((await o.storage.agents.list()).map((r) => describe(r, holders)));
      return {
        pid: process.pid,
        startedAt,
        owner: { publicKey: o.owner.getPublicKey(), npub: npubEncode(o.owner.getPublicKey()) },
        relays: o.pool.status().map((s) => ({
          url: s.url,
          state: s.state,
          ...(s.lastError ? { lastError: s.lastError } : {}),
          ...(s.breaker ? { breaker: { state: s.breaker.state, score: s.breaker.score, consecutiveFailures: s.breaker.consecutiveFailures, ...(s.breaker.retryAt ? { retryAt: s.breaker.retryAt } : {}), ...(s.breaker.lastFailure ? { lastFailure: s.breaker.lastFailure } : {}) } } : {}),
        })),
        agents,
        awake: o.runtime.stats().inMemory,
      };
    },
    async agent(ref) {
      const record = await o.storage.agents.get(ref);
      return record ? describe(record) : undefined;
    },
    async create(request: CreateAgentRequest) {
      const checked = await mapped(() => checkCreateRequest(request, o.defaultRelays));
      try {
        await o.prepareBehavior(checked.behavior);
      } catch (error) {
        await mapped(() => {
          throw error;
        });
      }
      const record = await mapped(async () => {
        if (await o.storage.agents.get(checked.name)) throw new ControlError(`an agent named "${checked.name}" already exists`, 409);
        const config: Record<string, unknown> = { ...checked.config, relays: checked.relays };
        if (checked.dmPolicy) config.dmPolicy = checked.dmPolicy;
        return o.runtime.create({ name: checked.name, behavior: checked.behavior, config });
      });
      o.onCreated(record);
      return describe(record);
    },
    async act(ref: string, action: AgentAction) {
      const record = await find(ref);
      const run = async (): Promise<AgentRecord> => {
        switch (action) {
          case 'pause':
            return o.runtime.pause(record.index);
          case 'resume':
            return o.runtime.resume(record.index);
          case 'recover':
            return o.runtime.recover(record.index);
          case 'terminate':
            return o.runtime.terminate(record.index);
        }
      };
      try {
        const updated = await run();
        if (action === 'terminate') o.onTerminated(updated);
        return describe(updated);
      } catch (error) {
        return mapped(() => {
          throw error;
        });
      }
    },
    async poke(ref, text) {
      const record = await find(ref);
      return mapped(() => o.runtime.poke(record.index, text));
    },
    async ticks(ref, limit) {
      return o.storage.ticks.list((await find(ref)).index, { limit });
    },
    subscribe(listener) {
      return o.runtime.events.subscribe(listener);
    },
  };
}
