/**
 * Each agent's ThinkProvider, for the daemon's Runtime: the agent's `llm` config over the
 * environment (AGENT_LLM_*) over the home's config.json `llm`; AGENT_LLM_SCRIPT replays a script for
 * every agent. No budget decorator here: the runtime's ctx.think already counts calls and tokens
 * against the agent's daily budget (counting here too would count each call twice).
 */
import type { Config } from '../config/schema.js';
import type { AgentConfig } from '../runtime/agent-config.js';
import { LlmConfigError } from '../think/errors.js';
import { LlmConfigSchema, type LlmConfig } from '../think/llm-config.js';
import { MeteredProvider, type LlmCallObservation } from '../think/metered.js';
import { createProvider, providerSettingsFromEnv, type ProviderSettings } from '../think/provider-stack.js';
import type { ThinkProvider } from '../think/types.js';
import type { AgentRecord } from '../storage/types.js';

/** What `thinkFor` needs; `env` is read once (a bad AGENT_LLM_* fails here, at daemon start). */
export interface ThinkForOptions {
  env: Record<string, string | undefined>;
  homeLlm?: Config['llm'];
  /** Told about every LLM call of an agent (the daemon's metrics). */
  observe?: (agent: AgentRecord, call: LlmCallObservation) => void;
}

/** The merged settings for one agent (undefined: the agent has no LLM). */
export function settingsForAgent(base: ProviderSettings, homeLlm: Config['llm'] | undefined, name: string, config: AgentConfig): ProviderSettings {
  const out: ProviderSettings = { ...base };
  const fallback: Partial<LlmConfig> | undefined = base.llm ?? homeLlm;
  const own = config.llm;
  if (own?.baseUrl || own?.model || own?.apiKey) {
    const baseUrl = own.baseUrl ?? fallback?.baseUrl;
    // A key configured for another endpoint is never sent to this one.
    const apiKey = own.apiKey ?? (baseUrl === fallback?.baseUrl ? fallback?.apiKey : undefined);
    const parsed = LlmConfigSchema.safeParse({ baseUrl, model: own.model ?? fallback?.model, ...(apiKey ? { apiKey } : {}) });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new LlmConfigError(`agent "${name}": llm.${String(issue.path[0] ?? '')} ${issue.code === 'invalid_type' ? 'is required (in its config or AGENT_LLM_*)' : issue.message}`);
    }
    out.llm = parsed.data;
  } else if (!out.llm && homeLlm) {
    out.llm = LlmConfigSchema.parse({ baseUrl: homeLlm.baseUrl, model: homeLlm.model, ...(homeLlm.apiKey ? { apiKey: homeLlm.apiKey } : {}) });
  }
  return out;
}

/** Builds the daemon's `thinkFor`; providers are kept per agent so a script's position survives hibernation. */
export function createThinkFor(options: ThinkForOptions): (record: AgentRecord, config: AgentConfig) => ThinkProvider | undefined {
  const base = providerSettingsFromEnv(options.env);
  const cache = new Map<number, { key: string; provider: ThinkProvider | undefined }>();
  return (record, config) => {
    const settings = settingsForAgent(base, options.homeLlm, record.name, config);
    const key = JSON.stringify(settings);
    const hit = cache.get(record.index);
    if (hit && hit.key === key) return hit.provider;
    const inner = createProvider(settings);
    const observe = options.observe;
    const provider = inner && observe ? new MeteredProvider(inner, (call) => observe(record, call)) : inner;
    cache.set(record.index, { key, provider });
    return provider;
  };
}
