/**
 * Where to reach a pubkey: its NIP-17 DM relays (10050) and NIP-65 read/write relays (10002),
 * fetched from discovery relays and cached (misses too, so an unknown key costs one lookup per TTL).
 */
import type { NostrEvent } from '../protocol/event.js';
import { Kind } from '../protocol/kinds.js';
import { parseDmRelayList } from '../protocol/nip17.js';
import { parseRelayList } from '../protocol/nip65.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { WsRelayPool } from './relay-pool.js';
import type { RelayListResolver, RelayLists } from './types.js';

/** Options; defaults: 10 min cache, 5 s lookup timeout. */
export interface CachedRelayListsOptions {
  pool: Pick<WsRelayPool, 'fetch'>;
  /** Relays to look lists up on (the agents' own, plus any index relays). */
  discoveryRelays: () => string[];
  ttlMs?: number;
  timeoutMs?: number;
  clock?: Clock;
}

function newest(events: NostrEvent[], kind: number): NostrEvent | undefined {
  return events.filter((e) => e.kind === kind).sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1))[0];
}

/** Reads relay lists out of fetched events (newest of each kind wins). */
export function relayListsFrom(events: NostrEvent[]): RelayLists {
  const out: RelayLists = {};
  const dm = newest(events, Kind.DmRelayList);
  const nip65 = newest(events, Kind.RelayList);
  if (dm) out.dm = parseDmRelayList(dm);
  if (nip65) Object.assign(out, parseRelayList(nip65));
  return out;
}

/** A RelayListResolver over a pool, with a TTL cache and one lookup in flight per pubkey. */
export class CachedRelayLists implements RelayListResolver {
  readonly #o: CachedRelayListsOptions;
  readonly #cache = new Map<string, { at: number; lists: RelayLists }>();
  readonly #inFlight = new Map<string, Promise<RelayLists>>();

  constructor(options: CachedRelayListsOptions) {
    this.#o = options;
  }

  async get(pubkey: string, options: { signal?: AbortSignal } = {}): Promise<RelayLists> {
    const clock = this.#o.clock ?? systemClock;
    const hit = this.#cache.get(pubkey);
    if (hit && clock.now() - hit.at < (this.#o.ttlMs ?? 600_000)) return hit.lists;
    let running = this.#inFlight.get(pubkey);
    if (!running) {
      running = this.#lookup(pubkey, options.signal).finally(() => this.#inFlight.delete(pubkey));
      this.#inFlight.set(pubkey, running);
    }
    return running;
  }

  /** Forgets a cached entry (e.g. after the key published a new list). */
  invalidate(pubkey: string): void {
    this.#cache.delete(pubkey);
  }

  async #lookup(pubkey: string, signal: AbortSignal | undefined): Promise<RelayLists> {
    const timeout = AbortSignal.timeout(this.#o.timeoutMs ?? 5000);
    const events = await this.#o.pool.fetch([{ kinds: [Kind.RelayList, Kind.DmRelayList], authors: [pubkey] }], {
      relays: this.#o.discoveryRelays(),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const lists = relayListsFrom(events.filter((e) => e.pubkey === pubkey));
    this.#cache.set(pubkey, { at: (this.#o.clock ?? systemClock).now(), lists });
    return lists;
  }
}
