/**
 * The receiving pipeline for one event: dedupe (processed table and in-flight), unwrap or decrypt,
 * authenticate, classify into an InboundMessage per hosted agent, hand it to the runtime's sink,
 * then mark the event processed (or let the sink write the mark with its record: one transaction).
 * Forged or misaddressed events are counted by reason, logged at debug and marked processed with
 * their outcome, never passed on.
 */
import type { NostrEvent } from '../protocol/event.js';
import { tagValue } from '../protocol/event.js';
import { Kind } from '../protocol/kinds.js';
import type { Signer } from '../signer/types.js';
import type { AgentStorage } from '../storage/types.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { classifyGiftWrap, classifyLegacyDm, classifyMention, type Classified } from './classify.js';
import type { OwnEchoes } from './own-echoes.js';
import type { InboundMessage, MessageSink, ReceiverCounters, RejectReason } from './types.js';

const NOT_HOSTED = 'p tag names no hosted agent';

/** A rejection that only says no agent of this daemon is addressed (another daemon may hold it). */
function notHostedHere(c: { reject: RejectReason; detail: string }): boolean {
  return (c.reject === 'wrong-recipient' && c.detail === NOT_HOSTED) || c.reject === 'not-addressed';
}

/** Options; defaults: system clock, silent logger. */
export interface ReceiverOptions {
  /** Processed marks (replay protection), through the storage seam. */
  storage: Pick<AgentStorage, 'processed'>;
  /** The signer of a hosted agent, or undefined when the pubkey is not hosted here. */
  keys: (pubkey: string) => Signer | undefined;
  /** Every hosted pubkey (for mentions by reference). */
  hosted: () => Iterable<string>;
  sink: MessageSink;
  logger?: Logger;
  clock?: Clock;
  /** Gift wraps this daemon sent its own agents: settled as `own-message` without opening them. */
  ownEchoes?: OwnEchoes;
}

/** A zeroed counters object. */
export function newReceiverCounters(): ReceiverCounters {
  const rejected = {} as Record<RejectReason, number>;
  for (const r of ['wrong-recipient', 'decrypt-failed', 'malformed-seal', 'bad-seal-signature', 'seal-rumor-mismatch', 'malformed-rumor', 'unsupported-rumor-kind', 'own-message', 'not-addressed'] as const) rejected[r] = 0;
  return { received: 0, delivered: 0, duplicates: 0, sinkFailures: 0, rejected };
}

/** Turns verified relay events into InboundMessages exactly once. */
export class Receiver {
  readonly counters: ReceiverCounters = newReceiverCounters();
  readonly #o: ReceiverOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #inFlight = new Map<string, Promise<boolean>>();

  constructor(options: ReceiverOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? silentLogger;
  }

  /**
   * Handles one event (already signature-checked by the connection). Resolves true when the event
   * is settled (delivered, rejected or already processed), false when the sink failed and the event
   * must be seen again (the caller must not move its cursor past it).
   */
  handle(event: NostrEvent, relay: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    this.counters.received++;
    const running = this.#inFlight.get(event.id);
    if (running) {
      this.counters.duplicates++;
      return running;
    }
    const work = this.#handleNew(event, relay, options.signal).finally(() => this.#inFlight.delete(event.id));
    this.#inFlight.set(event.id, work);
    return work;
  }

  async #handleNew(event: NostrEvent, relay: string, signal: AbortSignal | undefined): Promise<boolean> {
    // An agent's copy of its own message: what opening it would conclude, without the ECDHs or a processed
    // row (a replay after a restart finds no note and opens it, then records it as before).
    if (this.#o.ownEchoes?.has(event.id)) {
      this.counters.rejected['own-message']++;
      return true;
    }
    if (await this.#o.storage.processed.isProcessed(event.id)) {
      this.counters.duplicates++;
      return true;
    }
    return this.#process(event, relay, signal);
  }

  async #process(event: NostrEvent, relay: string, signal: AbortSignal | undefined): Promise<boolean> {
    const classified = this.#classify(event, relay);
    if ('reject' in classified) {
      this.counters.rejected[classified.reject]++;
      this.#log.log({ level: 'debug', ns: 'receiver', msg: 'event dropped', id: event.id, kind: event.kind, relay, reason: classified.reject, detail: classified.detail });
      // "Not for an agent hosted here" is this daemon's view, not the event's fate: with many daemons on
      // one database the processed record is shared, and the agent's holder must still read it.
      if (!notHostedHere(classified)) await this.#o.storage.processed.markProcessed(event.id, `rejected:${classified.reject}`, this.#clock.now());
      return true;
    }
    // The last message carries the processed mark: its sink may commit both together. (A mention of
    // several hosted agents: a crash after the first is a replay the inbox dedupes, as before.)
    const mark = { eventId: event.id, outcome: 'delivered' };
    let marked = false;
    try {
      const last = classified.messages.length - 1;
      for (const [i, message] of classified.messages.entries()) marked = (await this.#o.sink(message, i === last ? { signal, mark } : { signal })) === true;
    } catch (cause) {
      this.counters.sinkFailures++;
      this.#log.log({ level: 'warn', ns: 'receiver', msg: 'sink failed; event left unprocessed', id: event.id, relay, error: (cause as Error).message });
      return false;
    }
    this.counters.delivered += classified.messages.length;
    if (!marked) await this.#o.storage.processed.markProcessed(event.id, mark.outcome, this.#clock.now());
    return true;
  }

  #classify(event: NostrEvent, relay: string): Classified {
    if (event.kind === Kind.GiftWrap || event.kind === Kind.EncryptedDirectMessage) {
      const recipient = tagValue(event, 'p');
      const signer = recipient === undefined ? undefined : this.#o.keys(recipient);
      if (!signer) return { reject: 'wrong-recipient', detail: NOT_HOSTED };
      return event.kind === Kind.GiftWrap ? classifyGiftWrap(event, signer, relay) : classifyLegacyDm(event, signer, relay);
    }
    if (event.kind === Kind.TextNote) return classifyMention(event, new Set(this.#o.hosted()), relay);
    return { reject: 'not-addressed', detail: `kind ${event.kind} is not a message kind` };
  }
}

export type { InboundMessage };
