/**
 * Autonomy: which tool calls run unattended and which wait for the owner's approval.
 *
 * - A call is **external** when it acts outside the agent: send_dm to anyone but the owner,
 *   publish_note, http_fetch, delegate, every MCP tool, every call that spends sats, and a
 *   behavior's own tool unless it declares `external: false`. Memory and alarm tools are internal.
 * - Each tool has a mode: `always` (ask for every call), `over-budget` (ask once the day's
 *   unattended allowance is used up) or `never`. `autonomy.approval` sets it per tool (a name,
 *   `server.tool`, or `server.*`); otherwise the level decides: `bounded` (the default) gives
 *   external tools `over-budget`, `autonomous` gives them `never`. Internal tools are `never`
 *   unless set.
 * - `supervised` asks for every external call, whatever its tool's mode (a mode can only add
 *   internal tools to what is asked).
 * - **Over budget** means: counting this call, the agent's unattended external calls today (UTC)
 *   would pass `dailyActions` (default 20), or the sats spent unattended today would pass
 *   `dailySats` (default 0, so any spending asks). Calls the owner approved do not count.
 *
 * The day's unattended use lives in the agent's kv (`__autonomy/<day>`) and commits with the tick.
 */
import type { ApprovalQuery, ApprovalVerdict, ToolApprovalGate } from '../think/tools/types.js';
import { entryCovers } from '../think/mcp/names.js';
import type { JsonValue } from '../storage/types.js';
import type { Autonomy } from './agent-config.js';
import { utcDay } from './budget.js';
import type { TickMemory } from './types.js';

/** The kv prefix of the daily unattended-use counters. */
export const AUTONOMY_PREFIX = '__autonomy/';

/** Unattended use so far today. */
export interface AutonomyUse {
  actions: number;
  sats: number;
}

/** The mode that applies to `tool`: its own setting (exact name first, then `server.*`), else the level's default. */
export function approvalMode(autonomy: Autonomy, tool: string, external: boolean): 'always' | 'over-budget' | 'never' {
  const exact = autonomy.approval[tool];
  if (exact) return exact;
  const pattern = Object.keys(autonomy.approval).find((entry) => entry !== tool && entryCovers(entry, tool));
  if (pattern) return autonomy.approval[pattern]!;
  if (!external) return 'never';
  return autonomy.level === 'autonomous' ? 'never' : 'over-budget';
}

/** The verdict for one call, given today's unattended use (pure). */
export function decideApproval(autonomy: Autonomy, query: Omit<ApprovalQuery, 'callId'>, used: AutonomyUse): ApprovalVerdict {
  const mode = approvalMode(autonomy, query.tool, query.external);
  if (autonomy.level === 'supervised' && query.external) return { ok: false, reason: 'supervised: every external action needs your approval' };
  if (mode === 'always') return { ok: false, reason: `${query.tool} is set to ask you every time` };
  if (mode === 'over-budget') {
    if (used.actions + 1 > autonomy.dailyActions) return { ok: false, reason: `over today's allowance of ${autonomy.dailyActions} unattended actions` };
    if (query.sats > 0 && used.sats + query.sats > autonomy.dailySats) {
      return { ok: false, reason: `it would spend ${query.sats} sats, over today's unattended allowance (${used.sats} of ${autonomy.dailySats} used)` };
    }
  }
  return { ok: true };
}

/** The gate for one tick: reads and bumps today's counter in the tick's buffer. */
export function approvalGate(autonomy: Autonomy, memory: Pick<TickMemory, 'get' | 'set' | 'list' | 'delete'>, now: () => number): ToolApprovalGate {
  return {
    async check(query) {
      const key = `${AUTONOMY_PREFIX}${utcDay(now())}`;
      const raw = await memory.get<{ actions?: unknown; sats?: unknown }>(key);
      const used: AutonomyUse = { actions: typeof raw?.actions === 'number' ? raw.actions : 0, sats: typeof raw?.sats === 'number' ? raw.sats : 0 };
      const verdict = decideApproval(autonomy, query, used);
      const counted = query.external || approvalMode(autonomy, query.tool, query.external) === 'over-budget';
      if (verdict.ok && counted) {
        // Only today's counter is kept.
        for (const { key: old } of await memory.list(AUTONOMY_PREFIX)) if (old !== key) await memory.delete(old);
        await memory.set(key, { actions: used.actions + 1, sats: used.sats + query.sats } as unknown as JsonValue);
      }
      return verdict;
    },
  };
}
