/**
 * What the think layer sees of a tick: an LLM provider that counts every call against the agent's
 * daily budget, and the ToolContext its tool loop acts through. Both go through the TickContext's
 * own methods, so a tool's effects are buffered and committed (or dropped) with the behavior's.
 */
import { ToolInputError, ToolRefusedError, ToolSuspendedError, type ToolCapabilities, type ToolContext } from '../../think/tools/types.js';
import type { ThinkProvider } from '../../think/types.js';
import { approvalGate } from '../autonomy.js';
import { BudgetExceededError } from '../errors.js';
import type { TickContext } from '../types.js';
import { resolveTarget, safeKey } from './grants.js';
import type { ContextParams } from './params.js';

/** Counts LLM calls and tokens against the agent's daily budget before and after each call. */
export function budgetedThink(inner: ThinkProvider, p: ContextParams, open: () => void): ThinkProvider {
  return {
    name: inner.name,
    async think(request, options) {
      open();
      const view = p.budget();
      if (view.llmCalls.limit !== undefined && view.llmCalls.used >= view.llmCalls.limit) throw new BudgetExceededError('llmCalls', `used ${view.llmCalls.used} of ${view.llmCalls.limit}`, { used: view.llmCalls.used, limit: view.llmCalls.limit });
      if (view.tokens.limit !== undefined && view.tokens.used >= view.tokens.limit) throw new BudgetExceededError('tokens', `used ${view.tokens.used} of ${view.tokens.limit}`, { used: view.tokens.used, limit: view.tokens.limit });
      const result = await inner.think(request, { signal: options?.signal ?? p.signal });
      p.state.llm.calls += 1;
      p.state.llm.input += result.usage.inputTokens;
      p.state.llm.output += result.usage.outputTokens;
      return result;
    },
  };
}

/** The think layer's ToolContext over this tick (effects buffered like the behavior's own). */
export function toolContext(ctx: TickContext, capabilities: ToolCapabilities, p: ContextParams): ToolContext {
  return {
    memory: {
      remember: (text, options) => {
        ctx.memory.remember(text, options);
        return {};
      },
      recall: async (query, options) => (await ctx.memory.recall(query, options.limit)).map((f) => ({ id: String(f.id), text: f.text, createdAt: f.createdAt })),
      forget: async (target) => ('words' in target ? ctx.memory.forget(target.words) : (await p.state.buffer.forgetId(Number(target.id))) ? 1 : 0),
    },
    schedule: (alarm) => {
      const key = `tool:${alarm.at}:${alarm.note.slice(0, 32)}`;
      ctx.schedule({ at: alarm.at, note: alarm.note, key });
      return { id: key };
    },
    sendDm: (pubkey, text) => {
      ctx.sendDm(pubkey, text);
      return {};
    },
    publishNote: (text) => {
      ctx.publishNote(text);
      return {};
    },
    // A tick cannot wait for a reply (its DM is sent at commit): check, then suspend the loop; the
    // caller commits the delegation with ctx.delegate and resumes in onDelegateReply.
    delegate: async (target, text, options) => {
      let resolved: { pubkey: string; name?: string };
      try {
        resolved = await resolveTarget(p, target);
      } catch (error) {
        throw new ToolInputError((error as Error).message.replace(/^delegate: /, ''), { cause: error });
      }
      if (resolved.pubkey === p.agent.pubkey) throw new ToolInputError('you cannot delegate to yourself');
      const allowed = capabilities.dmAllow.length === 0 || capabilities.dmAllow.some((entry) => entry === resolved.name || entry === target || safeKey(entry) === resolved.pubkey);
      if (!allowed) throw new ToolRefusedError(`delegating to ${resolved.name ?? `${resolved.pubkey.slice(0, 12)}…`} is not allowed: the agent's dmAllow list does not include it`);
      throw new ToolSuspendedError(`waiting for ${resolved.name ?? resolved.pubkey.slice(0, 12)}'s reply`, {
        target: resolved.pubkey,
        ...(resolved.name ? { targetName: resolved.name } : {}),
        text,
        timeoutMs: options.timeoutMs,
      });
    },
    ...(p.mcp ? { mcp: p.mcp } : {}),
    approval: approvalGate(p.autonomy, p.state.buffer, p.now),
    spendSats: (sats) => ctx.spendSats(sats),
    ownerPubkey: p.agent.ownerPubkey,
    signal: ctx.signal,
    now: ctx.now,
    capabilities,
    recordStep: (step) => p.record(step),
  };
}
