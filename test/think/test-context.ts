/**
 * A ToolContext for the think tests: facts in a real SQLite FTS5 table (better-sqlite3, :memory:),
 * and the effects the runtime would queue (DMs, notes, alarms, delegations) kept in arrays.
 */
import Database from 'better-sqlite3';
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
  const db = new Database(':memory:');
  db.exec('CREATE VIRTUAL TABLE facts USING fts5(text, tags)');
  const insert = db.prepare('INSERT INTO facts(text, tags) VALUES (?, ?)');
  const search = db.prepare('SELECT rowid AS id, text FROM facts WHERE facts MATCH ? ORDER BY rank LIMIT ?');
  const remove = db.prepare('DELETE FROM facts WHERE rowid = ?');
  const removeAll = db.prepare('DELETE FROM facts WHERE facts MATCH ?');
  const all = db.prepare('SELECT text FROM facts ORDER BY rowid');
  const ctx: TestContext = {
    dms: [], notes: [], alarms: [], delegations: [], steps: [],
    capabilities: {
      tools: options.capabilities?.tools ?? ['remember', 'recall', 'forget', 'schedule', 'send_dm', 'publish_note', 'http_fetch', 'delegate'],
      httpAllow: options.capabilities?.httpAllow ?? [],
      dmAllow: options.capabilities?.dmAllow ?? [],
    },
    memory: {
      remember: (text, { tags }) => ({ id: String(insert.run(text, (tags ?? []).join(' ')).lastInsertRowid) }),
      recall: (query, { limit }) => {
        // Each word as a quoted FTS5 term, OR-ed: model text never reaches FTS5 syntax.
        const terms = query.match(/[\p{L}\p{N}]+/gu) ?? [];
        if (terms.length === 0) return [];
        const rows = search.all(terms.map((t) => `"${t}"`).join(' OR '), limit) as Array<{ id: number; text: string }>;
        return rows.map((r) => ({ id: String(r.id), text: r.text }));
      },
      forget: (target) => {
        if ('id' in target) return /^\d+$/.test(target.id) ? remove.run(Number(target.id)).changes : 0;
        const terms = target.words.match(/[\p{L}\p{N}]+/gu) ?? [];
        return terms.length ? removeAll.run(terms.map((t) => `"${t}"`).join(' AND ')).changes : 0;
      },
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
    now: options.now ?? (() => 1_700_000_000_000),
    recordStep: (step) => ctx.steps.push(step),
    facts: () => (all.all() as Array<{ text: string }>).map((r) => r.text),
    close: () => db.close(),
  };
  if (options.signal) ctx.signal = options.signal;
  return ctx;
}
