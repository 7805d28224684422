/**
 * The environment a stdio server gets, made explicit: the SDK's safe defaults (HOME, LOGNAME, PATH,
 * SHELL, TERM, USER: it always adds those), the config's `env` values, and the `passEnv` names
 * copied from the daemon's environment. Nothing else: not AGENT_MNEMONIC, not AGENT_LLM_API_KEY,
 * not OPENAI_API_KEY, unless the owner wrote it into `env` or `passEnv` (and AGENT_* cannot be passed).
 */
import type { McpStdioServerConfig } from './types.js';

/** Variables the SDK's stdio transport passes to every server whatever it is told. */
export const SDK_DEFAULT_ENV = ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER'] as const;

/** The variables given to the server besides the SDK's defaults. */
export function serverEnv(config: Pick<McpStdioServerConfig, 'env' | 'passEnv'>, daemonEnv: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of config.passEnv) {
    if (name.toUpperCase().startsWith('AGENT_')) continue;
    const value = daemonEnv[name];
    if (value !== undefined) out[name] = value;
  }
  return { ...out, ...config.env };
}

/** The values a server's config holds that must never show in a trajectory (env values, header values). */
export function configSecrets(configs: ReadonlyArray<{ env?: Record<string, string>; headers?: Record<string, string> }>): string[] {
  const out: string[] = [];
  for (const c of configs) {
    for (const value of [...Object.values(c.env ?? {}), ...Object.values(c.headers ?? {})]) if (value.length >= 8) out.push(value);
  }
  return out;
}
