/**
 * The control API's shapes: what the daemon exposes on 127.0.0.1 to the CLI and the TUI.
 * The daemon implements ControlHandler; server.ts puts it on HTTP; client.ts calls it.
 */
import type { RuntimeEvent } from '../runtime/events.js';
import type { TickRecord } from '../trajectory/types.js';
import { CodedError, type CodedErrorOptions, type ErrorCode } from '../util/errors.js';

/** An agent as the CLI and TUI show it. */
export interface AgentSummary {
  name: string;
  index: number;
  account: number;
  publicKey: string;
  npub: string;
  behavior: string;
  state: string;
  relays: string[];
  dmPolicy?: string;
  ticks: number;
  failures: number;
  consecutiveFailures: number;
  lastTickAt?: number;
  lastError?: string;
  storageBytes: number;
  /** Today's use against the limits (UTC day). */
  budget?: { computeMs: number; llmCalls: number; tokens: number; sats: number; limits: Record<string, number | undefined> };
  /** Messages received but not yet answered. */
  pending?: number;
  /** Tool calls waiting for the owner's `/approve CODE` or `/deny CODE`, oldest first. */
  approvals?: PendingApproval[];
  /** The daemon holding the agent's lease (many daemons on one database); absent: nobody holds it now. */
  holder?: AgentHolder;
}

/** Which daemon holds an agent, and until when (`agent status`). */
export interface AgentHolder {
  daemonId: string;
  host?: string;
  pid?: number;
  epoch: number;
  /** When the lease runs out unless renewed (ms). */
  expiresAt: number;
}

/** A tool call waiting for the owner's approval (what the approval DM said). */
export interface PendingApproval {
  code: string;
  tool: string;
  /** The call's arguments, JSON text (cut at 500 characters). */
  arguments: string;
  reason: string;
  why?: string;
  createdAt: number;
  /** When it denies itself. */
  deadline: number;
}

/** One relay the daemon talks to. */
export interface RelaySummary {
  url: string;
  state: string;
  lastError?: string;
  /** Its circuit breaker: `open` means publishes and short REQs skip it until `retryAt` (ms epoch). */
  breaker?: { state: 'closed' | 'open' | 'half-open'; score: number; consecutiveFailures: number; retryAt?: number; lastFailure?: string };
}

/** The daemon as a whole. */
export interface DaemonOverview {
  pid: number;
  startedAt: number;
  owner: { publicKey: string; npub: string };
  relays: RelaySummary[];
  agents: AgentSummary[];
  /** Agents currently in memory (the rest hibernate in SQLite). */
  awake: number;
}

/** What `agent create` sends. */
export interface CreateAgentRequest {
  name: string;
  behavior: string;
  relays?: string[];
  dmPolicy?: string;
  config?: Record<string, unknown>;
}

/** Lifecycle actions the owner can take. */
export type AgentAction = 'pause' | 'resume' | 'terminate' | 'recover';

/** Everything the daemon exposes; errors thrown carry `status` (404, 409, 400) when they have one. */
export interface ControlHandler {
  overview(): Promise<DaemonOverview>;
  agent(ref: string): Promise<AgentSummary | undefined>;
  create(request: CreateAgentRequest): Promise<AgentSummary>;
  act(ref: string, action: AgentAction): Promise<AgentSummary>;
  /** A manual trigger: the agent ticks with `text` as its input. */
  poke(ref: string, text: string): Promise<{ inboxId: number }>;
  /** The agent's latest `limit` ticks, oldest first (the TUI's trajectory view). */
  ticks(ref: string, limit: number): Promise<TickRecord[]>;
  /** Runtime events as they happen; returns the unsubscribe function. */
  subscribe(listener: (event: RuntimeEvent) => void): () => void;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'CONTROL_BAD_REQUEST',
  401: 'CONTROL_UNAUTHORIZED',
  403: 'CONTROL_FORBIDDEN',
  404: 'CONTROL_NOT_FOUND',
  409: 'CONTROL_CONFLICT',
  413: 'INPUT_TOO_LARGE',
};

/**
 * An error with an HTTP status, thrown by handlers and re-thrown by the client. Its code is the one
 * given, else that of a CodedError `cause` it wraps, else one for the status (CONTROL_FAILED for 5xx).
 */
export class ControlError extends CodedError {
  override name = 'ControlError';
  constructor(
    message: string,
    readonly status: number,
    options: CodedErrorOptions = {},
  ) {
    const cause = options.cause instanceof CodedError ? options.cause : undefined;
    super(STATUS_CODES[status] ?? 'CONTROL_FAILED', message, { ...(cause ? { code: cause.code } : {}), permanent: status >= 400 && status < 500, ...options });
  }
}

/** Where a running daemon listens (written to `<home>/control.json`; the token is in control.token). */
export interface ControlInfo {
  url: string;
  pid: number;
  startedAt: number;
  /** The tokenless /metrics, /healthz, /readyz listener, when one runs. */
  metricsUrl?: string;
  /** The webhook listener, when one runs. */
  hooksUrl?: string;
}
