/**
 * The approval gate inside the dispatchers: before a call runs, the agent's autonomy (the runtime's
 * ToolApprovalGate) says whether it may run unattended. When it may not, the call suspends the tool
 * loop (ToolSuspendedError with `kind: "approval"`), the behavior asks the owner, and the owner's
 * decision resumes the loop in a later tick, where exactly that call runs (approvedOnce) or is denied.
 */
import { errorCode } from '../../util/errors.js';
import { ToolRefusedError, ToolSuspendedError, type ApprovalQuery, type ToolContext } from './types.js';

/** Throws ToolSuspendedError when the gate wants the owner's approval for `query`. */
export async function gateCall(ctx: ToolContext, query: ApprovalQuery): Promise<void> {
  const verdict = (await ctx.approval?.check(query)) ?? { ok: true as const };
  if (!verdict.ok) throw new ToolSuspendedError(`${query.tool} needs the owner's approval`, { kind: 'approval', tool: query.tool, reason: verdict.reason });
}

/** Accounts the sats a call spends; past the daily sats budget the call is refused. */
export function spendFor(ctx: ToolContext, tool: string, sats: number): void {
  if (sats <= 0) return;
  if (!ctx.spendSats) throw new ToolRefusedError(`${tool} would spend ${sats} sats, and this agent cannot spend sats here`);
  try {
    ctx.spendSats(sats);
  } catch (error) {
    if (errorCode(error) === 'BUDGET_EXCEEDED') throw new ToolRefusedError(`${tool} would spend ${sats} sats: ${(error as Error).message}`, { cause: error });
    throw error;
  }
}

/** The context with one call (by id and tool) let through the gate: the one the owner approved. */
export function approvedOnce(ctx: ToolContext, callId: string, tool: string): ToolContext {
  const inner = ctx.approval;
  let used = false;
  return {
    ...ctx,
    approval: {
      check(query) {
        if (!used && query.callId === callId && query.tool === tool) {
          used = true;
          return { ok: true };
        }
        return inner ? inner.check(query) : { ok: true };
      },
    },
  };
}
