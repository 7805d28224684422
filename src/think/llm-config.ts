/** Which OpenAI-compatible endpoint an agent thinks with: from the environment or the agent's config. */
import { z } from 'zod';
import { LlmConfigError } from './errors.js';

/** Base URL, model and optional key; the schema the config loader reuses for per-agent settings. */
export const LlmConfigSchema = z.object({
  baseUrl: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL (e.g. http://127.0.0.1:11434/v1)' })
    .transform((u) => u.replace(/\/+$/, '')),
  model: z.string().trim().min(1, 'must name a model (e.g. llama3.2, gpt-4o-mini)'),
  apiKey: z.string().min(1).optional(),
});
export type LlmConfig = z.infer<typeof LlmConfigSchema>;

const ENV_NAMES = { baseUrl: 'AGENT_LLM_BASE_URL', model: 'AGENT_LLM_MODEL', apiKey: 'AGENT_LLM_API_KEY' } as const;

/**
 * The LLM settings in `env` (AGENT_LLM_BASE_URL, AGENT_LLM_MODEL, AGENT_LLM_API_KEY), or undefined
 * when no base URL is set (the agent then runs on rules). Throws LlmConfigError naming the variable.
 */
export function llmConfigFromEnv(env: Record<string, string | undefined>): LlmConfig | undefined {
  const raw = {
    baseUrl: env[ENV_NAMES.baseUrl]?.trim() || undefined,
    model: env[ENV_NAMES.model]?.trim() || undefined,
    apiKey: env[ENV_NAMES.apiKey]?.trim() || undefined,
  };
  if (raw.baseUrl === undefined) {
    if (raw.model !== undefined) throw new LlmConfigError(`${ENV_NAMES.model} is set but ${ENV_NAMES.baseUrl} is not`);
    return undefined;
  }
  const parsed = LlmConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path[0] as keyof typeof ENV_NAMES;
  // Never echo the key's value; the other two are safe to show.
  const shown = field === 'apiKey' || raw[field] === undefined ? '' : ` (got ${JSON.stringify(raw[field])})`;
  const message = issue.code === 'invalid_type' ? 'is required' : issue.message;
  throw new LlmConfigError(`${ENV_NAMES[field]} ${message}${shown}`);
}

/** Base URLs of common OpenAI-compatible servers, for docs and `--help` output. */
export const KNOWN_BASE_URLS: Readonly<Record<string, string>> = {
  ollama: 'http://127.0.0.1:11434/v1',
  'llama.cpp': 'http://127.0.0.1:8080/v1',
  vllm: 'http://127.0.0.1:8000/v1',
  'lm-studio': 'http://127.0.0.1:1234/v1',
  openai: 'https://api.openai.com/v1',
  openrouter: 'https://openrouter.ai/api/v1',
};
