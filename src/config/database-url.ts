/**
 * Which database a home uses: `--database URL`, else AGENT_DATABASE_URL, else config `database.url`,
 * else `sqlite:<home>/agents.db`. A relative sqlite path in the config file is taken from the home
 * (the file lives there); one on the command line or in the environment from the working directory.
 */
import { isAbsolute, join, resolve } from 'node:path';

/** Where the URL came from (for messages). */
export type DatabaseUrlSource = 'flag' | 'env' | 'config' | 'default';

/** Resolves the database URL for a home. */
export function resolveDatabaseUrl(options: {
  home: string;
  flag?: string;
  env: NodeJS.ProcessEnv;
  configUrl?: string;
}): { url: string; source: DatabaseUrlSource } {
  const pick: Array<[string | undefined, DatabaseUrlSource]> = [
    [options.flag, 'flag'],
    [options.env.AGENT_DATABASE_URL, 'env'],
    [options.configUrl, 'config'],
  ];
  for (const [value, source] of pick) {
    if (value === undefined || value.trim() === '') continue;
    const url = value.trim();
    return { url: absoluteSqlite(url, source === 'config' ? options.home : process.cwd()), source };
  }
  return { url: `sqlite:${join(options.home, 'agents.db')}`, source: 'default' };
}

/** `sqlite:rel/path` made absolute against `base`; other URLs unchanged. */
function absoluteSqlite(url: string, base: string): string {
  if (!url.startsWith('sqlite:')) return url;
  let file = url.slice('sqlite:'.length);
  if (file.startsWith('//')) file = file.slice(2);
  if (file === '' || file === ':memory:' || isAbsolute(file)) return url;
  return `sqlite:${resolve(base, file)}`;
}
