/**
 * The daemon's one record per agent: public key, name, relays and signer. A daemon with 10,000
 * dormant agents used to keep these in five parallel maps (name by key, key by index, signer by
 * index, relays by key, index by key for the snapshots), ~45 bytes of hash table per map and agent
 * plus a LazySigner object each; here they are one object per agent (it is the agent's signer too),
 * found by index in a dense array (agent indexes count up from 0) and by key in one map. Agents
 * with the same relays share one array of them (a home's agents mostly list the same ones: one
 * array and one string per URL instead of ~100 bytes an agent).
 */
import { LazySigner, type KeyRing } from '../signer/key-ring.js';
import type { AgentRecord } from '../storage/types.js';

/** An agent the daemon knows: its signer (secret key derived on use, see KeyRing) with its name and relays. */
export class DirectoryAgent extends LazySigner {
  /** The relays it is reached on (shared with every agent listing the same); undefined until hosted. */
  relays: string[] | undefined;

  constructor(
    index: number,
    pubkey: string,
    public name: string,
    ring: KeyRing,
  ) {
    super(pubkey, ring, index);
  }
}

/** Agent index ↔ public key → record, for every agent of the home this daemon has read. */
export class AgentDirectory {
  readonly #ring: KeyRing;
  readonly #byIndex: Array<DirectoryAgent | undefined> = [];
  readonly #byPubkey = new Map<string, DirectoryAgent>();
  /** One array per distinct list of relays (joined by a space, which no relay URL holds). */
  readonly #relayLists = new Map<string, string[]>();

  constructor(ring: KeyRing) {
    this.#ring = ring;
  }

  /**
   * The record of `row`, created or updated (its name). Every map keyed by an agent's public key
   * elsewhere holds the record's one string (from the first read of its row), not a copy per read.
   */
  note(row: Pick<AgentRecord, 'index' | 'pubkey' | 'name'>): DirectoryAgent {
    let agent = this.#byIndex[row.index];
    if (agent?.pubkey !== row.pubkey) {
      if (agent) this.#byPubkey.delete(agent.pubkey);
      agent = new DirectoryAgent(row.index, row.pubkey, row.name, this.#ring);
      this.#byIndex[row.index] = agent;
      this.#byPubkey.set(agent.pubkey, agent);
    } else if (agent.name !== row.name) agent.name = row.name;
    return agent;
  }

  /** Notes `row` as hosted on `relays`: the record keeps the one shared array of that list (callers do not change it). */
  host(row: Pick<AgentRecord, 'index' | 'pubkey' | 'name'>, relays: string[]): DirectoryAgent {
    const agent = this.note(row);
    const key = relays.join(' ');
    let shared = this.#relayLists.get(key);
    if (!shared) this.#relayLists.set(key, (shared = relays));
    agent.relays = shared;
    return agent;
  }

  get(index: number): DirectoryAgent | undefined {
    return this.#byIndex[index];
  }

  byPubkey(pubkey: string): DirectoryAgent | undefined {
    return this.#byPubkey.get(pubkey);
  }

  nameOf(pubkey: string): string | undefined {
    return this.#byPubkey.get(pubkey)?.name;
  }

  /** The relays of a hosted agent, or undefined (not hosted yet, or unknown). */
  relaysOf(pubkey: string): string[] | undefined {
    return this.#byPubkey.get(pubkey)?.relays;
  }
}
