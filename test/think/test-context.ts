/**
 * A ToolContext for the think tests: facts in the project's real storage (SqliteAgentStorage over
 * SQLite :memory:, FTS5 search), and the effects the runtime would queue (DMs, notes, alarms,
 * delegations) kept in arrays.
 */
import { createAgent } from '../../src/storage/sqlite/agent-store.js';
import { listFacts } from '../../src/storage/sqlite/fact-store.js';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';
import type { ToolCapabilities, ToolContext } from '../../src/think/tools/types.js';
import type { TrajectoryStep } from '../../src/trajectory/types.js';

/** The context plus what it saw, and `close()` for afterEach. */
export interface TestContext extends ToolContext {
  dms: Array<{ pubkey: string; text: string }>;
  notes: string[];
  alarms: Array<{ at: number; note: string }>;
  delegations: Array<{ target: string; text: string; timeoutMs: number }>;
  steps: TrajectoryStep[];
  facts(): string[];
  close(): void;
}

/** Options: capabilities (default: every built-in tool, no hosts, anyone), time, and a delegate answer. */
export function createTestContext(options: {
  capabilities?: Partial<ToolCapabilities>;
  now?: () => number;
  signal?: AbortSignal;
  delegate?: (target: string, text: string, opts: { timeoutMs: number; signal?: AbortSignal }) => Promise<string>;
} = {}): TestContext {
  const now = options.now ?? (() => 1_700_000_000_000);
  const storage = SqliteAgentStorage.open(':memory:', { clock: { now } });
  // Synchronous setup on the engine's own Db (this helper is sync); the tools then go through the async seam.
  const agent = createAgent(storage.db, { name: 'thinker', behavior: 'assistant', pubkey: 'f'.repeat(64), now: now() });
  const facts = storage.facts(agent.index);
  const ctx: TestContext = {
    dms: [], notes: [], alarms: [], delegations: [], steps: [],
    capabilities: {
      tools: options.capabilities?.tools ?? ['remember', 'recall', 'forget', 'schedule', 'send_dm', 'publish_note', 'http_fetch', 'delegate'],
      httpAllow: options.capabilities?.httpAllow ?? [],
      dmAllow: options.capabilities?.dmAllow ?? [],
    },
    memory: {
      remember: async (text, { tags }) => ({ id: String((await facts.add(text, tags ? { tags } : {})).id) }),
      recall: async (query, { limit }) => (await facts.search(query, limit)).map((f) => ({ id: String(f.id), text: f.text, createdAt: f.createdAt })),
      forget: async (target) => ('id' in target ? (/^\d+$/.test(target.id) && (await facts.forgetId(Number(target.id))) ? 1 : 0) : (await facts.forget(target.words))),
    },
    schedule(alarm) {
      ctx.alarms.push(alarm);
      return { id: `alarm-${ctx.alarms.length}` };
    },
    sendDm(pubkey, text) {
      ctx.dms.push({ pubkey, text });
      return { id: `dm-${ctx.dms.length}` };
    },
    publishNote(text) {
      ctx.notes.push(text);
      return { id: `note-${ctx.notes.length}` };
    },
    async delegate(target, text, opts) {
      ctx.delegations.push({ target, text, timeoutMs: opts.timeoutMs });
      return options.delegate ? options.delegate(target, text, opts) : `done: ${text}`;
    },
    now,
    recordStep: (step) => ctx.steps.push(step),
    facts: () => listFacts(storage.db, agent.index).map((f) => f.text).reverse(),
    close: () => void storage.close(),
  };
  if (options.signal) ctx.signal = options.signal;
  return ctx;
}
