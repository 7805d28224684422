/**
 * The daemon's event triggers: the watch subscriptions (every hosted agent's watches, re-read
 * whenever one is added or removed), the control API's watch and hook routes, and what the webhook
 * listener asks of the daemon. Wired by daemon.ts.
 */
import type { HooksHandler } from '../control/hooks-server.js';
import type { DaemonMetrics } from '../control/metrics.js';
import type { TriggerAdmin } from '../control/trigger-routes.js';
import { WatchSubscriptions, type WatchSpec } from '../relay/watch-subscriptions.js';
import type { RelayConnection } from '../relay/relay-connection.js';
import { parseAgentConfig } from '../runtime/agent-config.js';
import type { Runtime } from '../runtime/engine.js';
import { watchFilterProblem } from '../runtime/watch.js';
import type { AgentRecord, AgentStorage } from '../storage/types.js';
import type { Logger } from '../util/logger.js';
import { addHook, addWatch, hookPath, listHooks, listWatches, removeHook, removeWatch } from './trigger-admin.js';

/** What the triggers need from the daemon. */
export interface DaemonTriggersOptions {
  storage: AgentStorage;
  runtime: Runtime;
  pool: { addRelay(url: string): Pick<RelayConnection, 'url' | 'subscribe' | 'status'> };
  logger: Logger;
  metrics: () => DaemonMetrics | undefined;
  /** Whether this daemon hosts the agent (not terminated, in its shard). */
  hosts: (record: Pick<AgentRecord, 'index' | 'state'>) => boolean;
  /** An agent's own relays (where its watches listen without --relay). */
  relaysOf: (pubkey: string) => string[];
  nameOf: (pubkey: string) => string;
  /** The webhook listener's base URL, once it runs. */
  hooksUrl: () => string | undefined;
}

/** The wired triggers. */
export interface DaemonTriggers {
  watches: WatchSubscriptions;
  /** Re-reads every hosted agent's watches and (re)subscribes. */
  refresh(): Promise<void>;
  admin: TriggerAdmin;
  hooks: HooksHandler;
}

/** Builds the daemon's triggers (call `watches.start()` and `refresh()` once the pool is up). */
export function createDaemonTriggers(o: DaemonTriggersOptions): DaemonTriggers {
  const warned = new Set<string>();
  const watches = new WatchSubscriptions({
    pool: o.pool,
    cursors: o.storage.cursors,
    logger: o.logger,
    sink: async (watch, event) => {
      const outcome = await o.runtime.deliverEvent(watch.agentPubkey, event, { watchId: watch.id });
      if (outcome !== 'no-match') o.metrics()?.watchEvent(o.nameOf(watch.agentPubkey), outcome);
    },
  });
  const specs = async (): Promise<WatchSpec[]> => {
    const all = await o.storage.agents.list();
    const records = new Map(all.map((r) => [r.index, r]));
    return (await o.runtime.watches(all)).flatMap(({ agentIndex, agentPubkey, watches: list }) => {
      const record = records.get(agentIndex);
      if (!record || !o.hosts(record)) return [];
      return list.flatMap((w) => {
        // A hand-edited config can hold what `agent watch add` refuses: skipped, said once.
        const problem = watchFilterProblem(w.filter);
        if (problem) {
          if (!warned.has(`${agentPubkey}:${w.id}`)) o.logger.log({ level: 'warn', ns: 'watch', msg: 'watch not subscribed', agent: agentPubkey, watch: w.id, reason: problem });
          warned.add(`${agentPubkey}:${w.id}`);
          return [];
        }
        return [{ key: `${agentPubkey}:${w.id}`, agentPubkey, id: w.id, filter: w.filter, relays: w.relays ?? o.relaysOf(agentPubkey), startAt: Math.floor((w.createdAt ?? Date.now()) / 1000) }];
      });
    });
  };
  const refresh = async (): Promise<void> => watches.set(await specs());
  const admin: TriggerAdmin = {
    watches: (agent) => listWatches(o.storage, agent),
    addWatch: async (agent, input) => {
      const watch = await addWatch(o.storage, agent, input, Date.now());
      await refresh();
      return watch;
    },
    removeWatch: async (agent, id) => {
      const watch = await removeWatch(o.storage, agent, id, Date.now());
      await refresh();
      return watch;
    },
    hooks: (agent) => listHooks(o.storage, agent),
    addHook: async (agent, input) => {
      const hook = await addHook(o.storage, agent, input, Date.now());
      const path = hookPath(agent, hook.name);
      const base = o.hooksUrl();
      return { ...hook, path, ...(base ? { url: `${base}${path}` } : {}) };
    },
    removeHook: async (agent, name) => removeHook(o.storage, agent, name, Date.now()),
  };
  const hooks: HooksHandler = {
    secretOf: async (agent, hook) => {
      const record = await o.storage.agents.get(agent);
      if (!record || record.name !== agent || !o.hosts(record)) return undefined;
      try {
        return parseAgentConfig({ ...record.config, behavior: record.behavior }, record.name).hooks.find((h) => h.name === hook)?.secret;
      } catch {
        return undefined;
      }
    },
    deliver: (agent, input) => o.runtime.deliverWebhook(agent, input),
    observe: (agent, outcome) => o.metrics()?.webhook(agent, outcome),
  };
  return { watches, refresh, admin, hooks };
}
