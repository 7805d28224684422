/**
 * The daemon's operations side: readiness (`/readyz`, `agent status`), health (`/healthz`) and the
 * metrics' scrape-time sources, built from what the daemon already has (storage counts, the pool's
 * status, the runtime's wake loop, the receiver's drop counters). One place, wired by daemon.ts.
 */
import { readiness } from '../control/health.js';
import { DaemonMetrics, type MetricsSources } from '../control/metrics.js';
import type { OpsHandler } from '../control/ops-server.js';
import type { ReceiverCounters, RelayStatus } from '../relay/types.js';
import type { ConnectionCounters } from '../relay/relay-connection.js';
import { parseAgentConfig } from '../runtime/agent-config.js';
import { dailyLimits, utcDay } from '../runtime/budget.js';
import type { Runtime } from '../runtime/engine.js';
import { MAX_SLEEP_MS } from '../runtime/scheduler.js';
import type { AgentRecord, AgentStorage } from '../storage/types.js';

/** A wake loop pass older than this fails readiness: it passes at least every MAX_SLEEP_MS. */
const WAKE_LOOP_STALE_MS = MAX_SLEEP_MS + 30_000;

/** What the operations side reads. */
export interface DaemonOpsOptions {
  storage: AgentStorage;
  runtime: Pick<Runtime, 'wakeLoop' | 'stats'>;
  pool: { status(): RelayStatus[]; counters: ConnectionCounters };
  receiver: { counters: ReceiverCounters };
  /** The agents this daemon hosts (not terminated, in its shard). */
  hosted: () => Promise<AgentRecord[]>;
  /** The relays an agent is reached on. */
  relaysOf: (record: AgentRecord) => string[];
  /** The name of a hosted agent's pubkey. */
  nameOf: (pubkey: string) => string | undefined;
  now?: () => number;
}

/** Builds the OpsHandler and the metrics it serves. */
export function createDaemonOps(o: DaemonOpsOptions): { ops: OpsHandler; metrics: DaemonMetrics } {
  const now = o.now ?? Date.now;
  const nameOf = (pubkey: string): string => o.nameOf(pubkey) ?? pubkey.slice(0, 12);
  const byIndex = async (): Promise<Map<number, string>> => new Map((await o.storage.agents.list()).map((r) => [r.index, r.name]));
  const sources: MetricsSources = {
    agentName: nameOf,
    now,
    agents: async () => (await o.storage.agents.list()).map((r) => ({ name: r.name, state: r.state })),
    awake: () => o.runtime.stats().inMemory,
    inbox: async () => {
      const [names, depth] = await Promise.all([byIndex(), o.storage.inbox.depth()]);
      return depth.map((d) => ({ agent: names.get(d.agentIndex) ?? String(d.agentIndex), pending: d.pending, oldestCreatedAt: d.oldestCreatedAt }));
    },
    outbox: async () => (await o.storage.outbox.counts()).map((c) => ({ agent: nameOf(c.agentPubkey), status: c.status, count: c.count })),
    budgets: async () => {
      const day = utcDay(now());
      const hosted = await o.hosted();
      const usages = await Promise.all(hosted.map((record) => o.storage.budget.get(record.index, day)));
      return hosted.flatMap((record, i) => {
        const usage = usages[i]!;
        let limits: ReturnType<typeof dailyLimits> & { storageBytes?: number };
        try {
          const budget = parseAgentConfig({ ...record.config, behavior: record.behavior }, record.name).budget;
          limits = { ...dailyLimits(budget), ...(budget.storageBytes !== undefined ? { storageBytes: budget.storageBytes } : {}) };
        } catch {
          limits = { computeMs: undefined, llmCalls: undefined, tokens: undefined, sats: undefined };
        }
        const row = (resource: 'compute_seconds' | 'llm_calls' | 'tokens' | 'sats' | 'storage_bytes', used: number, limit: number | undefined) => ({ agent: record.name, resource, used, ...(limit !== undefined ? { limit } : {}) });
        return [
          row('compute_seconds', usage.computeMs / 1000, limits.computeMs === undefined ? undefined : limits.computeMs / 1000),
          row('llm_calls', usage.llmCalls, limits.llmCalls),
          row('tokens', usage.tokens, limits.tokens),
          row('sats', usage.sats, limits.sats),
          row('storage_bytes', record.storageBytes, limits.storageBytes),
        ];
      });
    },
    relays: () => o.pool.status().map((s) => ({ url: s.url, state: s.state, attempts: s.attempts, ...(s.breaker ? { breaker: s.breaker.state } : {}) })),
    dropped: () => ({ ...o.receiver.counters.rejected, 'wire-malformed': o.pool.counters.malformed, 'wire-invalid-signature': o.pool.counters.invalidSignature }),
  };
  const metrics = new DaemonMetrics(sources);
  const startedAt = now();
  const ops: OpsHandler = {
    health: () => ({ ok: true, pid: process.pid, uptimeSeconds: Math.round((now() - startedAt) / 1000) }),
    readiness: async () => {
      let database: { ok: true } | { ok: false; error: string } = { ok: true };
      let agents: Array<{ name: string; relays: string[] }> = [];
      try {
        agents = (await o.hosted()).map((r) => ({ name: r.name, relays: o.relaysOf(r) }));
      } catch (error) {
        database = { ok: false, error: error instanceof Error ? error.message : String(error) };
      }
      const relayStates = new Map(o.pool.status().map((s) => [s.url, s.state]));
      return readiness({ now: now(), database, agents, relayStates, wakeLoop: o.runtime.wakeLoop(), wakeLoopStaleMs: WAKE_LOOP_STALE_MS });
    },
    metrics: async () => ({ contentType: metrics.contentType, text: await metrics.text() }),
  };
  return { ops, metrics };
}
