/**
 * One agent's whole self, read through the storage seam into the snapshot's parts: record and
 * config (credentials stripped), memory (the recent conversation only), schedules, today's budget
 * use, the trajectory chain head, the inbox cursors and the events it handled lately. Known
 * secrets (the API keys the daemon and the agent use) are redacted wherever they appear.
 */
import type { AgentMemorySnapshot, AgentRecord, DailyUsage, JsonValue } from '../storage/types.js';
import type { TickRecord } from '../trajectory/types.js';
import { utcDay } from '../storage/time.js';
import { MESSAGES_PER_PEER, PART_NAMES, type AgentPart, type AgentSnapshot, type StatePart } from './format.js';

/** How far back the events an agent handled are kept in a snapshot (the inbox reaches two days back for gift wraps, plus overlap). */
export const SEEN_WINDOW_MS = 3 * 24 * 3600 * 1000;
/** The most handled-event ids a snapshot keeps (the newest). */
const MAX_SEEN = 20_000;
const HEX64 = /^[0-9a-f]{64}$/;

type Awaitable<T> = T | Promise<T>;

/** What collecting needs of storage: a slice of the seam (the whole AgentStorage fits, sync or async). */
export interface CollectSource {
  readonly agents: { get(ref: number): Awaitable<AgentRecord | undefined> };
  exportMemory(agentIndex: number): Awaitable<AgentMemorySnapshot>;
  readonly budget: { get(agentIndex: number, day: string): Awaitable<DailyUsage> };
  readonly ticks: {
    last(agentIndex: number): Awaitable<TickRecord | undefined>;
    triggers(agentIndex: number, options: { since: number; limit: number }): Awaitable<Array<{ eventId: string; startedAt: number }>>;
  };
  readonly cursors: { list(): Awaitable<Array<{ relay: string; cursor: number }>> };
  readonly chainHeads: { get(agentIndex: number): Awaitable<unknown> };
}

/** Removes credentials from a stored config: the LLM API key, MCP servers' env and header values. Returns what was removed. */
export function stripConfig(config: Record<string, unknown>): { config: Record<string, JsonValue>; stripped: string[] } {
  const copy = JSON.parse(JSON.stringify(config)) as Record<string, JsonValue>;
  const stripped: string[] = [];
  const llm = copy.llm as Record<string, JsonValue> | undefined;
  if (llm && typeof llm === 'object' && 'apiKey' in llm) {
    delete llm.apiKey;
    stripped.push('llm.apiKey');
  }
  const mcp = copy.mcp as Record<string, Record<string, JsonValue>> | undefined;
  if (mcp && typeof mcp === 'object') {
    for (const [server, spec] of Object.entries(mcp)) {
      if (!spec || typeof spec !== 'object') continue;
      for (const field of ['env', 'headers'] as const) {
        const values = spec[field];
        if (values && typeof values === 'object' && !Array.isArray(values) && Object.keys(values).length > 0) {
          for (const name of Object.keys(values)) stripped.push(`mcp.${server}.${field}.${name}`);
          spec[field] = {};
        }
      }
    }
  }
  return { config: copy, stripped };
}

/** The newest `perPeer` messages of each peer, in time order. */
function recentMessages(messages: AgentMemorySnapshot['messages'], perPeer: number): AgentMemorySnapshot['messages'] {
  const byPeer = new Map<string, AgentMemorySnapshot['messages']>();
  for (const m of messages) byPeer.set(m.peer, [...(byPeer.get(m.peer) ?? []), m]);
  const kept = [...byPeer.values()].flatMap((list) => list.slice(-perPeer));
  return kept.sort((a, b) => a.at - b.at);
}

/** Replaces every occurrence of each secret (as it appears inside JSON strings) with `[redacted]`. */
export function redactJson<T>(value: T, secrets: readonly string[]): T {
  const usable = secrets.filter((s) => s.length >= 8);
  if (usable.length === 0) return value;
  let text = JSON.stringify(value);
  for (const secret of usable) text = text.split(JSON.stringify(secret).slice(1, -1)).join('[redacted]');
  return JSON.parse(text) as T;
}

/** Everything the snapshot of agent `index` holds; undefined when there is no such agent. */
export async function collectSnapshot(storage: CollectSource, index: number, options: { now: number; secrets?: readonly string[] }): Promise<AgentSnapshot | undefined> {
  const { now } = options;
  // The reads are independent: issued together (on PostgreSQL one write and one wake-up of a
  // backend, not a dozen round trips one after the other; on SQLite the same reads in turn).
  const [record, memory, usage, chain, last, recent, cursors] = await Promise.all([
    storage.agents.get(index),
    storage.exportMemory(index),
    storage.budget.get(index, utcDay(now)),
    storage.chainHeads.get(index) as Awaitable<StatePart['trajectory']['chain'] | undefined>,
    storage.ticks.last(index),
    // What the agent handled lately: the events that triggered its ticks, and the messages it was sent.
    storage.ticks.triggers(index, { since: now - SEEN_WINDOW_MS, limit: MAX_SEEN }),
    storage.cursors.list(),
  ]);
  if (!record) return undefined;
  const { config, stripped } = stripConfig(record.config);
  const agent: AgentPart = {
    name: record.name,
    index: record.index,
    account: record.account,
    pubkey: record.pubkey,
    behavior: record.behavior,
    // Awake or resting is not durable state (a restore brings an `active` agent back `dormant`):
    // written as `dormant`, a DM's wake and the hibernation after it leave this part unchanged.
    state: record.state === 'active' ? 'dormant' : record.state,
    config,
    createdAt: record.createdAt,
    stripped,
  };
  const seenAt = new Map<string, number>();
  for (const t of recent) if (HEX64.test(t.eventId)) seenAt.set(t.eventId, t.startedAt);
  for (const m of memory.messages) if (m.direction === 'in' && m.eventId && HEX64.test(m.eventId) && m.at >= now - SEEN_WINDOW_MS && !seenAt.has(m.eventId)) seenAt.set(m.eventId, m.at);
  const seen = [...seenAt].sort((a, b) => a[1] - b[1]).slice(-MAX_SEEN).map(([id]) => id);
  const state: StatePart = {
    budget: { day: usage.day, computeMs: usage.computeMs, llmCalls: usage.llmCalls, tokens: usage.tokens, sats: usage.sats, notified80: [...usage.notified80], notified100: [...usage.notified100] },
    trajectory: {
      chain: chain ? { lastId: chain.lastId, lastSeq: chain.lastSeq, session: chain.session ?? null } : { lastId: null, lastSeq: 0, session: null },
      head: last ? { startedAt: last.startedAt, endedAt: last.endedAt, trigger: last.trigger.type, outcome: last.outcome } : null,
    },
    cursors: cursors.map(({ relay, cursor }) => ({ relay, cursor })),
  };
  const snapshot: AgentSnapshot = {
    agent,
    kv: memory.kv,
    facts: memory.facts,
    goals: memory.goals,
    peers: memory.peers,
    messages: recentMessages(memory.messages, MESSAGES_PER_PEER),
    schedules: memory.schedules,
    state,
    seen,
  };
  const secrets = [...(options.secrets ?? []), ...(typeof (record.config.llm as { apiKey?: unknown } | undefined)?.apiKey === 'string' ? [(record.config.llm as { apiKey: string }).apiKey] : [])];
  const redacted = redactJson(snapshot, secrets);
  for (const name of PART_NAMES) if (redacted[name] === undefined) throw new Error(`snapshot part ${name} is missing (a bug)`);
  return redacted;
}
