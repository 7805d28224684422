/**
 * Per-agent runtime settings (behavior, DM policy, rate limit, budgets, watched filters), kept as
 * JSON in the agent's registry row. Parsed with zod whenever it is read, so a hand-edited or old
 * row gives a readable error naming the field instead of a crash mid-tick.
 */
import { z } from 'zod';
import { MCP_TOOL_ENTRY } from '../think/mcp/names.js';
import { McpServersSchema } from '../think/mcp/types.js';
import { HookSchema, WatchListSchema } from './watch.js';
import { CodedError } from '../util/errors.js';

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-character lowercase hex public key');

/** Who may DM the agent: anyone, the owner plus an allowlist, or the owner only. */
export const DmPolicySchema = z.enum(['open', 'allowlist', 'owner-only']);
/** Who may DM the agent. */
export type DmPolicy = z.infer<typeof DmPolicySchema>;

/** Budget limits. Omitted = unlimited; each limit that is set must be positive. */
export const BudgetLimitsSchema = z.object({
  /** Max wall time of one tick, ms (default 30 s): past it the tick is aborted and rolled back. */
  maxTickMs: z.number().int().positive().default(30_000),
  /** Compute seconds per UTC day (sum of tick durations). Default 3600. */
  dailyComputeSeconds: z.number().positive().optional().default(3600),
  /** Bytes of stored state (kv, facts, conversations). Default 50 MB. */
  storageBytes: z.number().int().positive().optional().default(50 * 1024 * 1024),
  /** LLM calls per UTC day. Default 500. */
  dailyLlmCalls: z.number().int().positive().optional().default(500),
  /** LLM tokens (input + output) per UTC day. Default 1,000,000. */
  dailyTokens: z.number().int().positive().optional().default(1_000_000),
  /** Sats per UTC day (accounted for a later wallet). Default unlimited. */
  dailySats: z.number().int().positive().optional(),
});
/** Budget limits with defaults applied. */
export type BudgetLimits = z.infer<typeof BudgetLimitsSchema>;

/** Per-sender rate limit: `capacity` messages per `windowMs`. */
export const RateLimitSchema = z.object({
  capacity: z.number().int().positive().default(10),
  windowMs: z.number().int().positive().default(60_000),
});

/** Per-agent LLM settings; unset fields fall back to AGENT_LLM_* in the daemon's environment. */
export const AgentLlmSchema = z.object({
  baseUrl: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  model: z.string().trim().min(1).optional(),
  /** Better given as AGENT_LLM_API_KEY; never logged or published. */
  apiKey: z.string().min(1).optional(),
  /** The system prompt (the agent's instructions). */
  system: z.string().max(16_000).optional(),
  /** Rough size of the prompt (history + facts) in tokens; older history is dropped past it. */
  contextTokens: z.number().int().min(256).max(1_000_000).default(4000),
});
/** Per-agent LLM settings with defaults applied. */
export type AgentLlm = z.infer<typeof AgentLlmSchema>;

/** How much the agent does without asking its owner (docs/think.md, "Autonomy and approvals"). */
export const AutonomyLevelSchema = z.enum(['supervised', 'bounded', 'autonomous']);
/** When a tool's calls ask the owner first. */
export const ApprovalModeSchema = z.enum(['always', 'over-budget', 'never']);
const toolEntry = z.string().refine((t) => /^[a-zA-Z0-9_-]{1,64}$/.test(t) || MCP_TOOL_ENTRY.test(t), 'must be a tool name, server.tool or server.*');

/** The agent's autonomy: its level, per-tool approval modes, its unattended allowance, and how long an approval waits. */
export const AutonomySchema = z.strictObject({
  level: AutonomyLevelSchema.default('bounded'),
  /** Per tool (a name, `server.tool` or `server.*`): overrides the level's default mode. */
  approval: z.record(toolEntry, ApprovalModeSchema).default({}),
  /** External calls per UTC day that run without asking (bounded, and tools set to over-budget). */
  dailyActions: z.number().int().min(0).default(20),
  /** Sats per UTC day tools may spend without asking. */
  dailySats: z.number().int().min(0).default(0),
  /** How long an approval request waits for the owner before it denies itself, seconds. */
  timeoutSeconds: z.number().int().min(1).max(7 * 24 * 3600).default(900),
});
/** The agent's autonomy with defaults applied. */
export type Autonomy = z.infer<typeof AutonomySchema>;

/** The tools an LLM agent gets when its config names none: memory and alarms, nothing that leaves the agent. */
export const DEFAULT_TOOLS: readonly string[] = ['remember', 'recall', 'forget', 'schedule'];

/** The agent's runtime config as stored. */
export const AgentConfigSchema = z.object({
  /** Behavior name in the registry (`echo`, `assistant`, or a user module's name). */
  behavior: z.string().min(1),
  /** Omitted = the behavior's default (`open` for echo, `owner-only` for assistant). */
  dmPolicy: DmPolicySchema.optional(),
  /** Extra senders allowed under the `allowlist` policy (the owner is always allowed). */
  allowlist: z.array(hex32).default([]),
  rateLimit: RateLimitSchema.default({ capacity: 10, windowMs: 60_000 }),
  budget: BudgetLimitsSchema.default(BudgetLimitsSchema.parse({})),
  /** Filters the agent watches (`agent watch`): a matching event becomes an `event` trigger. */
  watch: WatchListSchema.default([]),
  /** Signed webhooks (`agent hook`): a POST with a valid signature becomes an `event` trigger. */
  hooks: z.array(HookSchema).default([]),
  /** Whether trajectories are published in the clear (default: encrypted to the owner). */
  publicTrajectories: z.boolean().default(false),
  /** LLM endpoint, model and system prompt for this agent. */
  llm: AgentLlmSchema.optional(),
  /** Capabilities: the tools the LLM may call (default DEFAULT_TOOLS); MCP tools as `server.tool` or `server.*`. */
  tools: z.array(toolEntry).optional(),
  /** MCP servers by name (stdio `command` or Streamable HTTP `url`); their tools are granted through `tools`. */
  mcp: McpServersSchema.default({}),
  /** `supervised` | `bounded` | `autonomous`, or the whole object (level, approval per tool, allowance, timeout). */
  autonomy: z.preprocess((v) => (typeof v === 'string' ? { level: v } : v), AutonomySchema).default(AutonomySchema.parse({})),
  /** Capabilities: hosts http_fetch may reach (`example.org`, `*.example.org`, `host:port`). */
  http: z.object({ allow: z.array(z.string().trim().min(1)).default([]) }).default({ allow: [] }),
  /** Capabilities: who send_dm and delegate may message (hex, npub or agent name); empty = anyone. */
  dm: z.object({ allow: z.array(z.string().trim().min(1)).default([]) }).default({ allow: [] }),
});
/** The agent's runtime config with defaults applied. */
export type AgentConfig = z.infer<typeof AgentConfigSchema>;
/** What a caller may give when creating or updating an agent (defaults fill the rest). */
export type AgentConfigInput = z.input<typeof AgentConfigSchema>;

/** The capabilities the runtime grants the agent's tool loop, from its config. */
export function capabilitiesOf(config: AgentConfig): { tools: string[]; httpAllow: string[]; dmAllow: string[] } {
  return { tools: [...(config.tools ?? DEFAULT_TOOLS)], httpAllow: [...config.http.allow], dmAllow: [...config.dm.allow] };
}

/** A config row that does not parse; names the agent and the field. */
export class AgentConfigError extends CodedError {
  override name = 'AgentConfigError';
  constructor(message: string, options?: ErrorOptions) {
    super('AGENT_CONFIG_INVALID', message, { ...options, permanent: true });
  }
}

/** Parses an untrusted config object (or JSON text), throwing AgentConfigError with readable issues. */
export function parseAgentConfig(input: unknown, agent = 'agent'): AgentConfig {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new AgentConfigError(`${agent}: config is not valid JSON`, { cause: error });
    }
  }
  const parsed = AgentConfigSchema.safeParse(value);
  if (!parsed.success) throw new AgentConfigError(`${agent}: invalid config\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
