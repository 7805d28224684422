/** The agents registered in a home, read without starting anything (for `agent keys show`). */
import { homePaths } from '../config/home.js';
import { homeDatabaseUrl, openExistingStorage } from './home-context.js';

/** Name, NIP-06 account and stored public key of each agent in the home's database. */
export async function listAgentKeys(home: string, env: NodeJS.ProcessEnv): Promise<Array<{ name: string; account: number; publicKey?: string }>> {
  const storage = await openExistingStorage({ databaseUrl: homeDatabaseUrl(homePaths(home), env) });
  if (!storage) return [];
  try {
    return (await storage.agents.list()).map((a) => ({ name: a.name, account: a.account, publicKey: a.pubkey }));
  } finally {
    await storage.close();
  }
}
