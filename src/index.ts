/**
 * The package's public API: what a user's agent module imports
 * (`import { defineAgent, defineTool, answerWithLlm } from 'nostr-agent-runtime'`).
 * Kept small on purpose: behaviors, tools and the LLM turn helpers, no storage or sockets.
 */
// defineAgent, BehaviorDefinitionError and the behavior-facing types (TickContext, IncomingMessage, …).
export * from './behaviors/define-agent.js';
export { assistant, echo, llm } from './behaviors/index.js';
export { alarmWithLlm, answerWithLlm, continueAfterApproval, continueWithLlm } from './behaviors/llm.js';
export { buildPrompt, defaultSystemPrompt } from './behaviors/llm-prompt.js';
export { resumeAfterApproval, resumeLlmTurn, runLlmTurn } from './behaviors/llm-turn.js';
export { defineTool } from './think/tools/define.js';
export { BUILTIN_TOOL_NAMES } from './think/tools/registry.js';
export { ToolInputError, ToolRefusedError } from './think/tools/types.js';
export type { Tool, ToolCapabilities, ToolContext } from './think/tools/types.js';
export type { ThinkMessage, ThinkProvider, ThinkRequest, ThinkResult } from './think/types.js';
// The error taxonomy: a behavior throws or matches errors by their stable code.
export { BudgetExceededError, CodedError, ERROR_CODES, InputError, errorCode, isInputFault, isPermanent, type CodedErrorOptions, type ErrorCode } from './util/errors.js';
