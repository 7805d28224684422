/** What most commands start with: the home, its config, its database, and where daemons listen. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homePaths, resolveHome } from '../config/home.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { resolveDatabaseUrl } from '../config/database-url.js';
import { openStorage as openEngine, parseDatabaseUrl, type OpenStorageOptions } from '../storage/open.js';
import type { AgentStorage } from '../storage/types.js';

/** The resolved home with its parsed config. */
export interface HomeContext {
  home: string;
  paths: ReturnType<typeof homePaths>;
  config: Config;
  /** Where the agents' state lives: --database, AGENT_DATABASE_URL, config database.url, else `sqlite:<home>/agents.db`. */
  databaseUrl: string;
}

/**
 * Resolves `--home` / AGENT_HOME / ~/.agent and loads its config (ConfigError on a bad file); the
 * database is `--database` (`databaseFlag`), else AGENT_DATABASE_URL, else config `database.url`,
 * else the SQLite file in the home.
 */
export function openHome(flag: string | undefined, env: NodeJS.ProcessEnv, databaseFlag?: string): HomeContext {
  const home = resolveHome(flag, env);
  const paths = homePaths(home);
  const config = loadConfig(home);
  return { home, paths, config, databaseUrl: resolveDatabaseUrl({ home, flag: databaseFlag, env, configUrl: config.database?.url }).url };
}

/** The home's database URL without a --database flag (AGENT_DATABASE_URL, config database.url, the home's SQLite file). */
export function homeDatabaseUrl(paths: Pick<ReturnType<typeof homePaths>, 'home'>, env: NodeJS.ProcessEnv): string {
  return resolveDatabaseUrl({ home: paths.home, env, configUrl: loadConfig(paths.home).database?.url }).url;
}

/** Creates an empty file readable only by the owner, unless it exists (SQLite's -wal/-shm files inherit its mode). */
export function ensurePrivateFile(file: string): void {
  if (!existsSync(file)) writeFileSync(file, '', { mode: 0o600 });
}

/**
 * Opens (creating and migrating) the home's agent storage. A SQLite file holds the agents' memory,
 * so it is made mode 600 in a 700 directory first. DatabaseOpenError (one line, exit 2) when it cannot.
 */
export async function openStorage(ctx: Pick<HomeContext, 'home' | 'databaseUrl'>, options: Pick<OpenStorageOptions, 'logger' | 'backgroundCheckpoints'> = {}): Promise<AgentStorage> {
  const location = parseDatabaseUrl(ctx.databaseUrl);
  if (location.engine === 'sqlite' && location.file !== ':memory:') {
    mkdirSync(ctx.home, { recursive: true, mode: 0o700 });
    ensurePrivateFile(location.file);
  }
  return openEngine(ctx.databaseUrl, options);
}

/** Whether the home has agent storage yet: its SQLite file exists (a server database always counts as there). */
export function hasStorage(ctx: Pick<HomeContext, 'databaseUrl'>): boolean {
  const location = parseDatabaseUrl(ctx.databaseUrl);
  return location.engine !== 'sqlite' || location.file === ':memory:' || existsSync(location.file);
}

/** Opens the home's storage read-only, or undefined when its SQLite file does not exist yet (nothing created). */
export async function openExistingStorage(ctx: Pick<HomeContext, 'databaseUrl'>): Promise<AgentStorage | undefined> {
  const location = parseDatabaseUrl(ctx.databaseUrl);
  if (location.engine === 'sqlite' && !existsSync(location.file)) return undefined;
  return openEngine(ctx.databaseUrl, { readonly: true });
}

/** The relays new agents get: config `relays`, else the embedded relay `agent up` runs. */
export function defaultRelays(config: Config): string[] {
  if (config.relays.length > 0) return config.relays;
  const host = config.relay.host === '0.0.0.0' ? '127.0.0.1' : config.relay.host;
  return [`ws://${host}:${config.relay.port}`];
}
