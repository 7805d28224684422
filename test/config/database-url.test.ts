import { describe, expect, it } from 'vitest';
import { resolveDatabaseUrl } from '../../src/config/database-url.js';
import { ConfigSchema } from '../../src/config/schema.js';

describe('resolveDatabaseUrl', () => {
  const home = '/srv/agent-home';
  it('prefers --database, then AGENT_DATABASE_URL, then config database.url, then <home>/agents.db', () => {
    const env = { AGENT_DATABASE_URL: 'postgres://env@127.0.0.1/agents' };
    const configUrl = 'postgres://config@127.0.0.1/agents';
    expect(resolveDatabaseUrl({ home, flag: 'sqlite:/tmp/flag.db', env, configUrl })).toEqual({ url: 'sqlite:/tmp/flag.db', source: 'flag' });
    expect(resolveDatabaseUrl({ home, env, configUrl })).toEqual({ url: env.AGENT_DATABASE_URL, source: 'env' });
    expect(resolveDatabaseUrl({ home, env: {}, configUrl })).toEqual({ url: configUrl, source: 'config' });
    expect(resolveDatabaseUrl({ home, env: { AGENT_DATABASE_URL: '  ' } })).toEqual({ url: 'sqlite:/srv/agent-home/agents.db', source: 'default' });
  });

  it('takes a relative sqlite path in the config from the home', () => {
    expect(resolveDatabaseUrl({ home, env: {}, configUrl: 'sqlite:data/agents.db' }).url).toBe('sqlite:/srv/agent-home/data/agents.db');
    expect(resolveDatabaseUrl({ home, env: {}, configUrl: 'sqlite:///abs/agents.db' }).url).toBe('sqlite:///abs/agents.db');
  });

  it('is a config field of its own, strict', () => {
    expect(ConfigSchema.parse({ database: { url: 'postgres://u@h/db' } }).database?.url).toBe('postgres://u@h/db');
    expect(() => ConfigSchema.parse({ database: { url: '' } })).toThrow(/sqlite:PATH or postgres/);
    expect(() => ConfigSchema.parse({ database: { uri: 'x' } })).toThrow();
  });
});
