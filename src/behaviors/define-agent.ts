/**
 * The public API for writing an agent: `defineAgent({ name, about, onMessage, onMention, onAlarm,
 * tools, hooks })`. Checks the definition once, at load time, so a typo in a user module is an
 * error naming the field rather than a silent no-op at the first DM.
 */
import type { AgentBehavior, ApprovalResult, TickContext } from '../runtime/types.js';
import { continueAfterApproval } from './llm-turn.js';
import { CodedError } from '../util/errors.js';

export type {
  AgentBehavior,
  AgentInfo,
  AlarmFiring,
  ApprovalResult,
  BudgetView,
  DelegateOptions,
  DelegationResult,
  HookContext,
  IncomingMessage,
  ScheduleRequest,
  ScheduledAlarm,
  TickContext,
  TickFailure,
  TickMemory,
  Trigger,
} from '../runtime/types.js';

const HANDLERS = ['onMessage', 'onMention', 'onAlarm', 'onEvent', 'onWebhook', 'onDelegateReply', 'onApproval', 'onCreate', 'onWake', 'onSleep', 'onTerminate', 'onError'] as const;
const KNOWN = new Set<string>(['name', 'about', 'defaultDmPolicy', 'tools', ...HANDLERS]);

/** A behavior definition that is not usable; names the field. */
export class BehaviorDefinitionError extends CodedError {
  override name = 'BehaviorDefinitionError';
  constructor(message: string, options?: ErrorOptions) {
    super('BEHAVIOR_INVALID', message, { ...options, permanent: true });
  }
}

/** Validates and freezes a behavior definition. */
export function defineAgent<B extends AgentBehavior>(definition: B): Readonly<B> {
  const fail = (message: string): never => {
    throw new BehaviorDefinitionError(`defineAgent(${JSON.stringify((definition as { name?: unknown })?.name ?? '?')}): ${message}`);
  };
  if (typeof definition !== 'object' || definition === null) return fail('expected an object');
  if (typeof definition.name !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(definition.name)) fail('name must be 1-64 letters, digits, ".", "_" or "-"');
  if (typeof definition.about !== 'string' || definition.about.trim() === '') fail('about must say what the agent does');
  for (const key of Object.keys(definition)) if (!KNOWN.has(key)) fail(`unknown field "${key}" (known: ${[...KNOWN].join(', ')})`);
  for (const handler of HANDLERS) {
    const fn = (definition as Record<string, unknown>)[handler];
    if (fn !== undefined && typeof fn !== 'function') fail(`${handler} must be a function`);
  }
  if (definition.defaultDmPolicy !== undefined && !['open', 'allowlist', 'owner-only'].includes(definition.defaultDmPolicy)) {
    fail('defaultDmPolicy must be open, allowlist or owner-only');
  }
  if (definition.tools !== undefined && !Array.isArray(definition.tools)) fail('tools must be an array');
  if (definition.onApproval) return Object.freeze(definition);
  // Approvals resume the LLM tool loop by default, with the behavior's own tools.
  const tools = definition.tools ?? [];
  return Object.freeze({ ...definition, onApproval: (ctx: TickContext, result: ApprovalResult) => continueAfterApproval(ctx, result, tools) });
}
