/** The think layer's public surface, for the composition root and behaviors. */
export type * from './types.js';
export type * from './tools/types.js';
export { ToolInputError, ToolRefusedError, ToolSuspendedError } from './tools/types.js';
export { BudgetExceededError, LlmConfigError, LlmError, ScriptError, type LlmErrorKind } from './errors.js';
export { KNOWN_BASE_URLS, LlmConfigSchema, llmConfigFromEnv, type LlmConfig } from './llm-config.js';
export { OpenAiProvider, type OpenAiProviderOptions } from './openai.js';
export { RecordingProvider, type RecordingLine, type RecordingOptions } from './recording.js';
export { ScriptedProvider, parseScript, type ScriptEntry, type ScriptMode } from './scripted.js';
export { BudgetedProvider } from './budgeted.js';
export { createProvider, providerSettingsFromEnv, type ProviderSettings } from './provider-stack.js';
export { DEFAULT_MAX_STEPS, runToolLoop, type ToolLoopOptions, type ToolLoopResult } from './tool-loop.js';
export { thinkWithTools, type ThinkWithToolsOptions } from './think-with-tools.js';
export { BUILTIN_TOOLS, BUILTIN_TOOL_NAMES, ToolRegistry } from './tools/registry.js';
export { defineTool, toolSpec } from './tools/define.js';
export { createHttpFetchTool, type HttpFetchOptions } from './tools/http-fetch.js';
export { isHostAllowed } from './tools/allow.js';
