/** What most commands start with: the home, its config, its database, and where daemons listen. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homePaths, resolveHome } from '../config/home.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { SqliteAgentStorage } from '../storage/sqlite/sqlite-agent-storage.js';

/** The resolved home with its parsed config. */
export interface HomeContext {
  home: string;
  paths: ReturnType<typeof homePaths>;
  config: Config;
}

/** Resolves `--home` / AGENT_HOME / ~/.agent and loads its config (ConfigError on a bad file). */
export function openHome(flag: string | undefined, env: NodeJS.ProcessEnv): HomeContext {
  const home = resolveHome(flag, env);
  return { home, paths: homePaths(home), config: loadConfig(home) };
}

/** Creates an empty file readable only by the owner, unless it exists (SQLite's -wal/-shm files inherit its mode). */
export function ensurePrivateFile(file: string): void {
  if (!existsSync(file)) writeFileSync(file, '', { mode: 0o600 });
}

/** Opens (creating) the home's agent database: the agents' memory, so mode 600 in a 700 directory. */
export function openStorage(ctx: HomeContext): SqliteAgentStorage {
  mkdirSync(ctx.home, { recursive: true, mode: 0o700 });
  ensurePrivateFile(ctx.paths.database);
  return SqliteAgentStorage.open(ctx.paths.database);
}

/** The relays new agents get: config `relays`, else the embedded relay `agent up` runs. */
export function defaultRelays(config: Config): string[] {
  if (config.relays.length > 0) return config.relays;
  const host = config.relay.host === '0.0.0.0' ? '127.0.0.1' : config.relay.host;
  return [`ws://${host}:${config.relay.port}`];
}
