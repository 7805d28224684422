/**
 * Fixtures for the TUI component tests. The UI is what is under test, so:
 * - the daemon side is the REAL control server and client (HTTP + SSE on 127.0.0.1, token, the
 *   home's control.json) over a small in-memory ControlHandler whose overview the test edits and
 *   whose RuntimeEvents the test emits;
 * - the DM side is an in-memory ChatTransport (MemoryTransport) whose sends the test settles and
 *   whose replies the test delivers. The real transport (NIP-17 over relays) is exercised by the
 *   end-to-end test in test/e2e/chat-tmux.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlServer, type RunningControlServer } from '../../src/control/server.js';
import type { AgentSummary, ControlHandler, DaemonOverview } from '../../src/control/types.js';
import { deriveFromSeed, mnemonicToSeed } from '../../src/protocol/nip06.js';
import { npubEncode } from '../../src/protocol/nip19.js';
import { RuntimeEvents, type RuntimeEvent } from '../../src/runtime/events.js';
import type { TickRecord } from '../../src/trajectory/types.js';
import { homeControl } from '../../src/tui/control-source.js';
import type { ChatControl, ChatMessage, ChatTransport } from '../../src/tui/types.js';

const MNEMONIC = 'leader monkey parrot ring guide accident before fence cannon height naive bean';
const seed = mnemonicToSeed(MNEMONIC);
/** The owner's public key (account 0). */
export const OWNER = deriveFromSeed(seed, 0).publicKey;

/** An agent summary with a real derived key (agent `index` = account index+1). */
export function agentSummary(name: string, index: number, overrides: Partial<AgentSummary> = {}): AgentSummary {
  const publicKey = deriveFromSeed(seed, index + 1).publicKey;
  return {
    name, index, account: index + 1, publicKey, npub: npubEncode(publicKey), behavior: 'assistant', state: 'dormant',
    relays: ['ws://127.0.0.1:7777'], ticks: 0, failures: 0, consecutiveFailures: 0, storageBytes: 0,
    budget: { computeMs: 0, llmCalls: 0, tokens: 0, sats: 0, limits: {} },
    ...overrides,
  };
}

/** A tick record as the runtime writes it. */
export function tickRecord(agent: AgentSummary, seq: number, text: string, at = Date.UTC(2025, 0, 2, 10, 0, seq)): TickRecord {
  return {
    agentPubkey: agent.publicKey, seq, startedAt: at, endedAt: at + 42,
    trigger: { type: 'dm', from: OWNER, text, at, eventId: 'e'.repeat(64) },
    steps: [
      { type: 'perceive', at: at + 1, ms: 1, name: 'dm' },
      { type: 'tool', at: at + 3, ms: 12, name: 'recall', detail: { query: text } },
      { type: 'message', at: at + 30, ms: 2, name: OWNER },
    ],
    tokens: { input: 0, output: 0 }, budget: { computeMs: 42, llmCalls: 0, tokens: 0 }, outcome: 'ok', sentEventIds: ['f'.repeat(64)],
  };
}

/** An in-memory ChatTransport: records sends (settled by the test) and delivers replies on demand. */
export class MemoryTransport implements ChatTransport {
  readonly sent: Array<{ agent: string; text: string; resolve: (id: string) => void; reject: (error: Error) => void }> = [];
  readonly histories = new Map<string, ChatMessage[]>();
  readonly historyCalls: string[] = [];
  readonly #listeners = new Set<(agentPubkey: string, message: ChatMessage) => void>();
  autoAccept = false;
  #ids = 0;
  closed = false;

  async history(agent: AgentSummary): Promise<ChatMessage[]> {
    this.historyCalls.push(agent.name);
    return this.histories.get(agent.publicKey) ?? [];
  }
  send(agent: AgentSummary, text: string): Promise<{ id: string }> {
    return new Promise((resolve, reject) => {
      const id = `sent-${++this.#ids}`;
      this.sent.push({ agent: agent.name, text, resolve: (given) => resolve({ id: given }), reject });
      if (this.autoAccept) resolve({ id });
    });
  }
  onMessage(listener: (agentPubkey: string, message: ChatMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  /** Delivers a message from `agent` as if it had arrived over the relays. */
  deliver(agent: AgentSummary, text: string, id = `reply-${++this.#ids}`, at = Date.now()): void {
    for (const listener of this.#listeners) listener(agent.publicKey, { id, from: 'agent', text, at });
  }
  get listeners(): number {
    return this.#listeners.size;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A control server on 127.0.0.1 with an editable overview, found through a temp home's control files. */
export class FakeDaemon {
  readonly home = mkdtempSync(join(tmpdir(), 'tui-home-'));
  readonly events = new RuntimeEvents();
  overview: DaemonOverview;
  server?: RunningControlServer;
  readonly control: ChatControl = homeControl(this.home);

  constructor(agents: AgentSummary[]) {
    this.overview = {
      pid: process.pid, startedAt: Date.now(), owner: { publicKey: OWNER, npub: npubEncode(OWNER) },
      relays: [{ url: 'ws://127.0.0.1:7777', state: 'connected' }], agents, awake: 0,
    };
  }

  #handler(): ControlHandler {
    return {
      overview: async () => this.overview,
      agent: async (ref) => this.overview.agents.find((a) => a.name === ref),
      create: async () => {
        throw new Error('not used');
      },
      act: async () => {
        throw new Error('not used');
      },
      poke: async () => ({ inboxId: 1 }),
      ticks: async () => [],
      subscribe: (listener) => this.events.subscribe(listener),
    };
  }

  /** Starts (or restarts, on a new port with a new token) and writes the home's control files. */
  async start(): Promise<this> {
    const token = `token-${Math.random().toString(36).slice(2)}`;
    this.server = await startControlServer({ handler: this.#handler(), token });
    writeFileSync(join(this.home, 'control.json'), JSON.stringify({ url: this.server.url, pid: process.pid, startedAt: Date.now() }));
    writeFileSync(join(this.home, 'control.token'), token, { mode: 0o600 });
    return this;
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  emit(event: RuntimeEvent): void {
    this.events.emit(event);
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** Polls `check` until it returns true (or throws the last frame on timeout). */
export async function waitFor(check: () => boolean, describe: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting; last frame:\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Key sequences as a terminal sends them. */
export const KEYS = { enter: '\r', tab: '\t', up: '\u001b[A', down: '\u001b[B', ctrlT: '\u0014', ctrlC: '\u0003', ctrlY: '\u0019', ctrlN: '\u000e', escape: '\u001b', backspace: '\u007f' };
