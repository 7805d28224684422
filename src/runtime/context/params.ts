/**
 * The shapes shared by the context builder (context.ts) and the tool context it lends the think
 * layer (context/tools.ts): what a tick has buffered so far, and what the tick hands in to build a
 * context. Their own file so both sides import them without importing each other.
 */
import type { ScheduleOp } from '../../storage/types.js';
import type { ToolCapabilities } from '../../think/tools/types.js';
import type { McpTools } from '../../think/mcp/types.js';
import type { ThinkProvider } from '../../think/types.js';
import type { TrajectoryStep } from '../../trajectory/types.js';
import type { Autonomy } from '../agent-config.js';
import type { DelegationOrigin } from '../delegation.js';
import type { TickBuffer } from '../tick-buffer.js';
import type { AgentInfo, BudgetView, OutboundIntent, Trigger } from '../types.js';

/** Everything a tick did, for the engine to commit (or drop). */
export interface TickState {
  buffer: TickBuffer;
  intents: OutboundIntent[];
  schedules: ScheduleOp[];
  steps: TrajectoryStep[];
  llm: { calls: number; input: number; output: number };
  sats: number;
  closed: boolean;
}

/** What the engine hands in to build a context. */
export interface ContextParams {
  agent: AgentInfo;
  trigger: Trigger;
  signal: AbortSignal;
  state: TickState;
  now: () => number;
  /** Budget view over the ledger plus this tick's own use. */
  budget: () => BudgetView;
  think?: ThinkProvider;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** Appends a finished step (and tells observers). */
  record: (step: TrajectoryStep) => void;
  /** Whether the agent has a stored schedule with this key / id (for cancelSchedule's answer). */
  storedSchedule: { byKey(key: string): Promise<boolean>; byId(id: number): Promise<boolean> };
  /** What the agent's config grants its tool loop. */
  capabilities: ToolCapabilities;
  /** The agent's MCP servers, while it is awake. */
  mcp?: McpTools;
  /** The agent's LLM settings from its config. */
  llm: { system?: string; contextTokens: number };
  /** A hosted agent of this home by name (for delegate). */
  resolveAgent: (name: string) => Promise<{ pubkey: string; name: string } | undefined>;
  /** Set when this tick handles a delegation's or an approval's outcome: `reply` answers the original requester. */
  origin?: DelegationOrigin;
  /** The agent's autonomy (which tool calls ask the owner first). */
  autonomy: Autonomy;
}
