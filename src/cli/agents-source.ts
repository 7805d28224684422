/** The agents registered in a home, read without starting anything (for `agent keys show`). */
import { existsSync } from 'node:fs';
import { homePaths } from '../config/home.js';
import { openDatabase } from '../storage/sqlite/database.js';

/** Name, NIP-06 account and stored public key of each agent in the home's database. */
export function listAgentKeys(home: string): Array<{ name: string; account: number; publicKey?: string }> {
  const file = homePaths(home).database;
  if (!existsSync(file)) return [];
  const db = openDatabase(file, { readonly: true });
  try {
    const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'agents'").get();
    if (!table) return [];
    const rows = db.prepare('SELECT name, account, pubkey FROM agents ORDER BY account').all() as Array<{ name: string; account: number; pubkey: string }>;
    return rows.map((r) => ({ name: r.name, account: r.account, publicKey: r.pubkey }));
  } finally {
    db.close();
  }
}
