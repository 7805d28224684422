/**
 * The gift wraps a daemon sends to its own agents: every NIP-17 message an agent sends carries a
 * copy wrapped to the agent itself (target `own`, so its other clients see what it said), and the
 * relay hands that copy straight back on the agent's inbox subscription. Opening it costs two ECDHs,
 * a seal check and a processed-table write, only to find the agent's own message and drop it. The
 * outbox publisher notes each such wrap's id before publishing it; the receiver settles those ids
 * unopened. Bounded (oldest forgotten first): an echo that arrives after it was forgotten, or after a
 * restart, is opened and dropped as before, so forgetting costs only time, never a message.
 */
import type { NostrEvent } from '../protocol/event.js';
import { Kind } from '../protocol/kinds.js';
import { BoundedSet } from '../util/bounded-set.js';

/** Ids kept by default: far more than the wraps in flight between publish and echo. */
const DEFAULT_LIMIT = 16_384;

export class OwnEchoes {
  readonly #ids: BoundedSet<string>;

  constructor(limit = DEFAULT_LIMIT) {
    this.#ids = new BoundedSet(limit);
  }

  /** Notes `event` when it is a gift wrap addressed to its own author's agent (an outbox row with target `own`). */
  noteOwnCopy(event: Pick<NostrEvent, 'id' | 'kind'>): void {
    if (event.kind !== Kind.GiftWrap) return;
    this.#ids.add(event.id);
  }

  /** True for a wrap noted by `noteOwnCopy` (and not yet forgotten). */
  has(id: string): boolean {
    return this.#ids.has(id);
  }
}
