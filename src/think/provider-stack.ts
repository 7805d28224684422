/**
 * Builds an agent's ThinkProvider from settings: an OpenAI-compatible endpoint or a replayed
 * script, optionally recorded to JSONL, with the agent's LLM budget outermost (a refused call is
 * neither sent nor recorded). For the composition root (cli) to call.
 */
import type { Clock } from '../util/clock.js';
import { BudgetedProvider } from './budgeted.js';
import { LlmConfigError } from './errors.js';
import { llmConfigFromEnv, type LlmConfig } from './llm-config.js';
import { OpenAiProvider, type OpenAiProviderOptions } from './openai.js';
import { RecordingProvider } from './recording.js';
import { ScriptedProvider, type ScriptMode } from './scripted.js';
import type { LlmBudget, ThinkProvider } from './types.js';

/** Where thoughts come from; with neither `llm` nor `scriptFile` there is no provider (rules only). */
export interface ProviderSettings {
  llm?: LlmConfig;
  /** A JSONL script replayed instead of calling an endpoint (tests, demos). */
  scriptFile?: string;
  scriptMode?: ScriptMode;
  /** Append every call to this JSONL file. */
  recordFile?: string;
}

/** Reads AGENT_LLM_* from `env`: BASE_URL, MODEL, API_KEY, SCRIPT, SCRIPT_MODE (order|match), RECORD. */
export function providerSettingsFromEnv(env: Record<string, string | undefined>): ProviderSettings {
  const settings: ProviderSettings = {};
  const llm = llmConfigFromEnv(env);
  if (llm) settings.llm = llm;
  const script = env.AGENT_LLM_SCRIPT?.trim();
  if (script) settings.scriptFile = script;
  const mode = env.AGENT_LLM_SCRIPT_MODE?.trim();
  if (mode) {
    if (mode !== 'order' && mode !== 'match') throw new LlmConfigError(`AGENT_LLM_SCRIPT_MODE must be "order" or "match" (got ${JSON.stringify(mode)})`);
    settings.scriptMode = mode;
  }
  const record = env.AGENT_LLM_RECORD?.trim();
  if (record) settings.recordFile = record;
  return settings;
}

/** The provider for `settings` (undefined when none is configured), wrapped as asked. */
export function createProvider(
  settings: ProviderSettings,
  options: { budget?: LlmBudget; clock?: Clock; openai?: Partial<OpenAiProviderOptions> } = {},
): ThinkProvider | undefined {
  let provider: ThinkProvider;
  if (settings.scriptFile) provider = ScriptedProvider.fromFile(settings.scriptFile, settings.scriptMode ?? 'order');
  else if (settings.llm) {
    provider = new OpenAiProvider({ ...options.openai, ...settings.llm, ...(options.clock ? { clock: options.clock } : {}) });
  } else return undefined;
  if (settings.recordFile) {
    provider = new RecordingProvider(provider, {
      file: settings.recordFile,
      secrets: settings.llm?.apiKey ? [settings.llm.apiKey] : [],
      ...(options.clock ? { clock: options.clock } : {}),
    });
  }
  if (options.budget) provider = new BudgetedProvider(provider, options.budget);
  return provider;
}
