/** The agents registered in a home, read without starting anything (for `agent keys show`). */
import { existsSync } from 'node:fs';
import { homePaths } from '../config/home.js';
import { listAgents } from '../storage/sqlite/agent-store.js';
import { openDatabase } from '../storage/sqlite/database.js';

/** Name, NIP-06 account and stored public key of each agent in the home's database. */
export function listAgentKeys(home: string): Array<{ name: string; account: number; publicKey?: string }> {
  const file = homePaths(home).database;
  if (!existsSync(file)) return [];
  const db = openDatabase(file, { readonly: true });
  try {
    return listAgents(db).map((a) => ({ name: a.name, account: a.account, publicKey: a.pubkey }));
  } finally {
    db.close();
  }
}
