/** Peers: who an agent has talked with, when first and last, how often, and how far it trusts them. */
import type { PeerRecord, PeerTrust } from '../agent-types.js';
import { StorageInputError } from '../errors.js';
import type { Db } from './database.js';
import { all, get, run, sql } from './query.js';

interface PeerRow {
  pubkey: string;
  first_seen: number;
  last_seen: number;
  message_count: number;
  trust: PeerTrust;
}

const TRUST: readonly PeerTrust[] = ['owner', 'trusted', 'known', 'unknown', 'blocked'];
const TOUCH = sql<[number, string, number, number, string | null, string | null]>(`
  INSERT INTO peers (agent_index, pubkey, first_seen, last_seen, message_count, trust) VALUES (?, ?, ?, ?, 1, coalesce(?, 'unknown'))
  ON CONFLICT (agent_index, pubkey) DO UPDATE SET
    first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
    message_count = message_count + 1, trust = coalesce(?, trust)`);
const SET_TRUST = sql<[string, number, string]>(`UPDATE peers SET trust = ? WHERE agent_index = ? AND pubkey = ?`);
const GET = sql<[number, string], PeerRow>(`SELECT * FROM peers WHERE agent_index = ? AND pubkey = ?`);
const LIST = sql<[number, number], PeerRow>(`SELECT * FROM peers WHERE agent_index = ? ORDER BY last_seen DESC, pubkey LIMIT ?`);

function checkTrust(trust: PeerTrust | undefined): void {
  if (trust !== undefined && !TRUST.includes(trust)) throw new StorageInputError(`peer trust must be one of ${TRUST.join(', ')}, got ${JSON.stringify(trust)}`);
}

/** Records a message with a peer (creating it on first contact); optionally sets its trust. */
export function touchPeer(db: Db, agentIndex: number, pubkey: string, at: number, trust?: PeerTrust): PeerRecord {
  if (typeof pubkey !== 'string' || pubkey === '') throw new StorageInputError('a peer needs a pubkey');
  checkTrust(trust);
  run(db, TOUCH, agentIndex, pubkey, at, at, trust ?? null, trust ?? null);
  return toPeer(get(db, GET, agentIndex, pubkey) as PeerRow);
}

/** Sets a known peer's trust; false when the agent has never seen it. */
export function setPeerTrust(db: Db, agentIndex: number, pubkey: string, trust: PeerTrust): boolean {
  checkTrust(trust);
  return run(db, SET_TRUST, trust, agentIndex, pubkey).changes > 0;
}

/** One peer, if seen. */
export function getPeer(db: Db, agentIndex: number, pubkey: string): PeerRecord | undefined {
  const row = get(db, GET, agentIndex, pubkey);
  return row ? toPeer(row) : undefined;
}

/** The agent's peers, most recently seen first. */
export function listPeers(db: Db, agentIndex: number, limit = -1): PeerRecord[] {
  return all(db, LIST, agentIndex, limit).map(toPeer);
}

function toPeer(row: PeerRow): PeerRecord {
  return { pubkey: row.pubkey, firstSeen: row.first_seen, lastSeen: row.last_seen, messageCount: row.message_count, trust: row.trust };
}
