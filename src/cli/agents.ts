/**
 * Creating and describing agents, shared by the CLI (no daemon running) and the daemon's control
 * handler, so both paths make the same record and print the same summary.
 */
import type { AgentHolder, AgentSummary, CreateAgentRequest, PendingApproval } from '../control/types.js';
import { deriveFromSeed } from '../protocol/nip06.js';
import { npubEncode } from '../protocol/nip19.js';
import { normalizeRelayUrl } from '../protocol/relay-url.js';
import type { AgentRecord, AgentStorage } from '../storage/types.js';
import { utcDay } from '../runtime/budget.js';
import { AgentConfigSchema } from '../runtime/agent-config.js';
import { listApprovals } from '../runtime/approvals.js';
import { serverOfEntry } from '../think/mcp/names.js';
import { BUILTIN_TOOL_NAMES } from '../think/tools/registry.js';
import { isModuleBehavior, resolveModuleBehavior } from './behavior-modules.js';
import { UsageError } from './errors.js';

/** Built-in behaviors `agent create --behavior` accepts (a path to a module is also accepted). */
export const BUILTIN_BEHAVIORS = ['echo', 'assistant', 'llm'] as const;
const POLICIES = ['open', 'allowlist', 'owner-only'];
const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/i;

/** The relays stored in an agent's config (the runtime's schema does not carry them). */
export function agentRelays(record: Pick<AgentRecord, 'config'>): string[] {
  const relays = (record.config as { relays?: unknown }).relays;
  return Array.isArray(relays) ? relays.filter((r): r is string => typeof r === 'string') : [];
}

/** Validates a create request; throws a UsageError naming the bad field. */
export function checkCreateRequest(request: CreateAgentRequest, defaultRelays: string[]): Required<Pick<CreateAgentRequest, 'name' | 'behavior' | 'relays'>> & CreateAgentRequest {
  if (!NAME.test(request.name)) throw new UsageError(`agent name "${request.name}" must be letters, digits, - or _ (up to 32), starting with a letter or digit`);
  const behavior = isModuleBehavior(request.behavior) ? resolveModuleBehavior(request.behavior) : request.behavior;
  if (!isModuleBehavior(behavior) && !(BUILTIN_BEHAVIORS as readonly string[]).includes(behavior)) {
    throw new UsageError(`unknown behavior "${behavior}" (built in: ${BUILTIN_BEHAVIORS.join(', ')}; or a path to a module)`);
  }
  if (request.dmPolicy !== undefined && !POLICIES.includes(request.dmPolicy)) {
    throw new UsageError(`--policy must be one of ${POLICIES.join(', ')}, got "${request.dmPolicy}"`);
  }
  const relays = (request.relays?.length ? request.relays : defaultRelays).map((url) => {
    const normalized = normalizeRelayUrl(url);
    if (!normalized) throw new UsageError(`not a relay URL (expected ws:// or wss://): ${url}`);
    return normalized;
  });
  if (relays.length === 0) throw new UsageError('no relay: pass --relay URL or set "relays" in config.json');
  if (request.config !== undefined) checkAgentConfig(request.config, behavior);
  return { ...request, behavior, relays };
}

/** Creates the agent record at the next index, its key derived from the owner seed (account index+1). */
export async function createAgentRecord(storage: Pick<AgentStorage, 'agents'>, seed: Uint8Array, request: CreateAgentRequest, defaultRelays: string[], now: number): Promise<AgentRecord> {
  const checked = checkCreateRequest(request, defaultRelays);
  if (await storage.agents.get(checked.name)) throw new UsageError(`an agent named "${checked.name}" already exists`);
  const config: Record<string, unknown> = { ...checked.config, behavior: checked.behavior, relays: checked.relays };
  if (checked.dmPolicy) config.dmPolicy = checked.dmPolicy;
  return storage.agents.create({
    name: checked.name,
    behavior: checked.behavior,
    pubkey: (index) => deriveFromSeed(seed, index + 1).publicKey,
    config,
    // `creating`: the daemon runs the behavior's onCreate on its first tick, then the agent is active.
    state: 'creating',
    now,
  });
}

/**
 * Who holds every agent now, from one read of the lease rows and the daemons: pass it to `summarize`
 * (a lease past its expiry is nobody's).
 */
export async function leaseHolders(storage: Pick<AgentStorage, 'leases'>, now: number): Promise<Map<number, AgentHolder>> {
  const [rows, census] = await Promise.all([storage.leases.list(), storage.leases.census(now)]);
  const daemons = new Map(census.daemons.map((d) => [d.id, d]));
  const out = new Map<number, AgentHolder>();
  for (const r of rows) {
    if (!r.daemonId || r.expiresAt <= now) continue;
    const d = daemons.get(r.daemonId);
    out.set(r.agentIndex, { daemonId: r.daemonId, ...(d ? { host: d.host, pid: d.pid } : {}), epoch: r.epoch, expiresAt: r.expiresAt });
  }
  return out;
}

/** The summary the CLI and TUI show for an agent (with its lease holder when `holders` is given). */
export async function summarize(storage: AgentStorage, record: AgentRecord, now: number, holders?: Map<number, AgentHolder>): Promise<AgentSummary> {
  const holder = holders?.get(record.index);
  const usage = await storage.budget.get(record.index, utcDay(now));
  const budget = (record.config as { budget?: Record<string, number | undefined> }).budget ?? {};
  return {
    name: record.name,
    index: record.index,
    account: record.account,
    publicKey: record.pubkey,
    npub: npubEncode(record.pubkey),
    behavior: record.behavior,
    state: record.state,
    relays: agentRelays(record),
    dmPolicy: (record.config as { dmPolicy?: string }).dmPolicy,
    ticks: record.ticks,
    failures: record.failures,
    consecutiveFailures: record.consecutiveFailures,
    lastTickAt: record.lastTickAt,
    lastError: record.lastError,
    storageBytes: record.storageBytes,
    budget: { computeMs: usage.computeMs, llmCalls: usage.llmCalls, tokens: usage.tokens, sats: usage.sats, limits: budget },
    approvals: await pendingApprovals(storage, record),
    ...(holder ? { holder } : {}),
  };
}

/** Checks the runtime part of a create request's config (llm, tools, http/dm allowlists, budget…). */
function checkAgentConfig(config: Record<string, unknown>, behavior: string): void {
  const parsed = AgentConfigSchema.safeParse({ ...config, behavior });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`invalid agent config at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  // MCP tools must name one of the agent's servers.
  for (const tool of parsed.data.tools ?? []) {
    const server = serverOfEntry(tool);
    if (server !== undefined && !(server in parsed.data.mcp)) throw new UsageError(`tool "${tool}" names MCP server "${server}", which this agent does not have (add it with --mcp '${server}=…')`);
  }
  // A module behavior may bring its own tools; a built-in one only has the built-in tools.
  const unknown = (parsed.data.tools ?? []).filter((t) => !BUILTIN_TOOL_NAMES.includes(t) && serverOfEntry(t) === undefined);
  if (unknown.length > 0 && !isModuleBehavior(behavior)) {
    throw new UsageError(`unknown tool${unknown.length > 1 ? 's' : ''} ${unknown.map((t) => `"${t}"`).join(', ')} (built in: ${BUILTIN_TOOL_NAMES.join(', ')})`);
  }
}

/** The agent's open approval requests (what `agent chat` offers to approve or deny). */
async function pendingApprovals(storage: AgentStorage, record: AgentRecord): Promise<PendingApproval[]> {
  return (await listApprovals(storage.kv(record.index)))
    .filter((r) => r.status === 'open')
    .map((r) => ({ code: r.code, tool: r.tool, arguments: r.arguments.slice(0, 500), reason: r.reason, ...(r.why ? { why: r.why } : {}), createdAt: r.createdAt, deadline: r.deadline }));
}
