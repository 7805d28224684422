/** The agent home: where keys, config, the database and the control token live. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Resolves the home directory: `--home`, then `AGENT_HOME`, then `~/.agent`. */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const chosen = flag ?? env.AGENT_HOME;
  return chosen ? resolve(chosen) : join(homedir(), '.agent');
}

/** The well-known files inside a home. */
export function homePaths(home: string) {
  return {
    home,
    keys: join(home, 'keys'),
    config: join(home, 'config.json'),
    database: join(home, 'agents.db'),
    relayDatabase: join(home, 'relay.db'),
    controlToken: join(home, 'control.token'),
    controlInfo: join(home, 'control.json'),
    /** Snapshot bookkeeping of this machine (daemon id, generations, published chunk hashes). */
    snapshots: join(home, 'snapshots.json'),
  };
}
