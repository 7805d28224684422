/**
 * The seam between the tools and the runtime. The runtime implements ToolContext for one tick
 * (its memory store, alarms, outbox, delegation); the tools validate arguments, enforce the
 * agent's capabilities and call through. Nothing here imports the runtime.
 */
import type { z } from 'zod';
import type { TrajectoryStep } from '../../trajectory/types.js';
import type { McpTools } from '../mcp/types.js';
import type { ToolCall, ToolSpec } from '../types.js';
import { CodedError } from '../../util/errors.js';

/** A value or a promise of it: SQLite-backed stores may answer synchronously. */
export type Awaitable<T> = T | Promise<T>;

/** What an agent is allowed to do; granted per agent by its owner. */
export interface ToolCapabilities {
  /** Names of the tools the agent may call (e.g. `remember`, `http_fetch`, `server.tool`, `server.*`). */
  tools: string[];
  /** Hosts http_fetch may reach: `example.org` (exact), `*.example.org` (any subdomain), `host:port`. */
  httpAllow: string[];
  /** Public keys (hex or npub) send_dm and delegate may message; empty means anyone. */
  dmAllow: string[];
}

/** A remembered fact as recall returns it. */
export interface RecalledFact {
  id: string;
  text: string;
  createdAt?: number;
}

/** The agent's long-term memory (facts with full-text search). Writes may be buffered until the tick commits. */
export interface ToolMemory {
  /** `id` may be absent when the write is buffered and the id is not known yet. */
  remember(text: string, options: { tags?: string[] }): Awaitable<{ id?: string }>;
  /** Facts matching any of the words, best first. */
  recall(query: string, options: { limit: number }): Awaitable<RecalledFact[]>;
  /** Removes one fact by id, or the facts containing all the words; returns how many. */
  forget(target: { id: string } | { words: string }): Awaitable<number>;
}

/** What a tool may do on the agent's behalf during one tick. Effects go through the tick's transaction. */
export interface ToolContext {
  memory: ToolMemory;
  /** Sets an alarm at `at` (ms since epoch) that wakes the agent with `note`. */
  schedule(alarm: { at: number; note: string }): Awaitable<{ id: string }>;
  /** Queues a DM to a hex public key (already normalized and checked). */
  sendDm(pubkey: string, text: string): Awaitable<{ id?: string }>;
  /** Queues a kind 1 note. */
  publishNote(text: string): Awaitable<{ id?: string }>;
  /**
   * DMs another agent (hex pubkey, or a name the runtime resolves) and resolves with its reply. The
   * runtime's implementation cannot wait inside a tick: it throws ToolSuspendedError instead, and the
   * reply resumes the loop in a later tick (docs/think.md, "Delegation").
   */
  delegate(target: string, text: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<string>;
  /** The agent's MCP servers (absent when it has none); their tools are granted by `server.tool` entries in `capabilities.tools`. */
  mcp?: McpTools;
  /** The agent's autonomy: asked before a call runs (absent: every call runs). */
  approval?: ToolApprovalGate;
  /** Accounts sats a tool spends (its `sats`), against the agent's daily sats budget; throws past it. */
  spendSats?(sats: number): void;
  /** The owner's public key (a DM to the owner is not an external action). */
  ownerPubkey?: string;
  /** The tick's deadline. */
  signal?: AbortSignal;
  now(): number;
  capabilities: ToolCapabilities;
  /** Adds a step to the tick's trajectory. */
  recordStep(step: TrajectoryStep): void;
}

/** A call as the approval gate sees it: what the agent is about to do, before it runs. */
export interface ApprovalQuery {
  callId: string;
  /** The tool's name (`server.tool` for MCP tools). */
  tool: string;
  /** True when the call acts outside the agent (messages others, publishes, fetches, calls a server, spends). */
  external: boolean;
  /** Sats the call will spend (0 for most tools). */
  sats: number;
}

/** The gate's verdict: run now, or ask the owner first (`reason` says why, for the owner). */
export type ApprovalVerdict = { ok: true } | { ok: false; reason: string };

/** Decides, per call, whether it may run unattended (the runtime implements it from the agent's autonomy). */
export interface ToolApprovalGate {
  /** Counts an unattended external call against the day's allowance when it answers ok. */
  check(query: ApprovalQuery): Awaitable<ApprovalVerdict>;
}

/** A tool: its name, what it is for (told to the model), a zod schema for its arguments, and its effect. */
export interface Tool<A = unknown> {
  name: string;
  description: string;
  schema: z.ZodType<A>;
  /**
   * Whether a call acts outside the agent (default true: a tool written for a behavior is assumed to
   * reach the world). Memory and alarm tools say false; send_dm says false only for the owner.
   */
  external?: boolean;
  /** Decides `external` per call (send_dm: not for a DM to the owner). */
  isExternal?(args: A, ctx: ToolContext): boolean;
  /** Sats a call will spend, known before it runs (an invoice's amount): gated by autonomy and accounted. */
  sats?(args: A): number;
  /** Returns what the model is told (text, or a value sent as JSON). Throws ToolRefusedError when a capability is missing. */
  run(args: A, ctx: ToolContext, options: { signal?: AbortSignal }): Promise<unknown>;
}

/** Thrown by a tool when the agent's capabilities do not allow the call; returned to the model as an error. */
export class ToolRefusedError extends CodedError {
  override name = 'ToolRefusedError';
  constructor(message: string, options?: ErrorOptions) {
    super('TOOL_REFUSED', message, { ...options, permanent: true });
  }
}

/**
 * Thrown by a ToolContext when a tool must wait for something outside the tick (delegate's reply):
 * the tool loop stops and returns `stopReason: "suspended"` with this detail, so the caller can
 * commit the tick and resume the loop in a later one.
 */
export class ToolSuspendedError extends CodedError {
  override name = 'ToolSuspendedError';
  constructor(
    message: string,
    readonly detail: Record<string, unknown>,
  ) {
    super('TOOL_SUSPENDED', message);
  }
}

/** Thrown by a tool for an expected failure the model should hear about (bad time, HTTP error…). */
export class ToolInputError extends CodedError {
  override name = 'ToolInputError';
  constructor(message: string, options?: ErrorOptions) {
    super('TOOL_FAILED', message, { ...options, permanent: true });
  }
}

/** The result of one dispatched call: `content` is what goes back to the model. */
export interface ToolOutcome {
  ok: boolean;
  content: string;
  /** Set when a capability refused the call. */
  refused?: boolean;
  error?: string;
  /** The name the trajectory records, when it differs from the wire name (`server.tool` for MCP tools). */
  name?: string;
  /** Extra trajectory detail (an MCP call's arguments and result; redacted like every step when published). */
  detail?: Record<string, unknown>;
}

/** Offers tools to the model and runs the calls it makes. */
export interface ToolDispatcher {
  readonly specs: ToolSpec[];
  call(call: ToolCall, options?: { signal?: AbortSignal }): Promise<ToolOutcome>;
}
