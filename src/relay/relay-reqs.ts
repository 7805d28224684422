/**
 * The subscriptions of one relay connection and their REQs on the current socket. A subscription is
 * sent as up to two REQs (read-rules.ts): restricted kinds in one of their own, the rest in another,
 * with one EOSE for the subscription once both have answered. A REQ of restricted kinds is held back
 * while AUTH is under way; refused with `auth-required:`, it is sent again once AUTH is done; and its
 * EOSE does not count when it was sent before AUTH to a relay that restricts reads (a relay that
 * withholds answers EOSE with nothing, which must not pass for an empty inbox): it is asked again
 * once AUTH is done, or, should AUTH never come, its EOSE is let through after a while with a warning.
 * Every REQ gets a fresh wire id (`<id>:<n>`) so late answers to a replaced one are told apart.
 */
import type { NostrEvent } from '../protocol/event.js';
import { matchFilters, type Filter } from '../protocol/filter.js';
import { rejectionPrefix } from '../protocol/schema.js';
import { BoundedSet } from '../util/bounded-set.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { ReadRules } from './read-rules.js';
import type { RelayAuth } from './relay-auth.js';

/** Callbacks of one subscription. */
export interface SubscriptionHandlers {
  onEvent(event: NostrEvent): void;
  /**
   * False for an event whose signature this subscriber does not need: it ignores such events (or
   * takes them as what a relay could do anyway by withholding), so the Schnorr check is skipped; the
   * id is still checked against the content. Default: every event's signature is checked.
   */
  signatureNeeded?(event: NostrEvent): boolean;
  /** Every REQ of the subscription has sent EOSE (after AUTH, where AUTH was needed). */
  onEose?(): void;
  /** The relay closed a REQ of the subscription for good (after AUTH retries were exhausted, for `auth-required:`). */
  onClosed?(reason: string): void;
  /** The subscription was (re)sent: stored events will be replayed up to a new EOSE. */
  onSent?(): void;
}

/** A live subscription: re-sent on every reconnect with freshly computed filters. */
export interface SubscriptionHandle {
  /** Re-sends the REQ with the current filters (same id: the relay replaces it). */
  refresh(): void;
  close(): void;
}

/** What the table needs of its connection. */
export interface ReqHost {
  readonly url: string;
  /** True when REQs can go out (socket open, NIP-11 read). */
  ready(): boolean;
  send(message: unknown[]): boolean;
  readonly auth: RelayAuth;
  readonly rules: ReadRules;
  readonly clock: Clock;
  readonly log: Logger;
  /** How long an EOSE (or an `auth-required:` refusal) waits for AUTH before it is let through (ms). */
  readonly authWaitMs: number;
  onUnrequested(event: NostrEvent): void;
  /** An outcome for the relay's circuit breaker (see RelayConnectionOptions.onHealth). */
  health(ok: boolean, reason?: string): void;
}

type PartState = 'unsent' | 'waiting-auth' | 'open' | 'held' | 'eose' | 'closed';

interface Part {
  filters: Filter[];
  gated: boolean;
  state: PartState;
  wireId?: string;
  /** AUTH epoch and number of accepted keys when this part was sent. */
  epoch: number;
  authedAtSend: number;
  authRetries: number;
  timer?: AbortController;
}

interface Sub {
  id: string;
  filters: () => Filter[];
  handlers: SubscriptionHandlers;
  parts: Part[];
  /** onEose was reported since the last whole send. */
  eosed: boolean;
}

/** Subscriptions, parts and wire ids of one connection. */
export class ReqTable {
  readonly #h: ReqHost;
  readonly #subs = new Map<string, Sub>();
  readonly #wire = new Map<string, { sub: Sub; part: Part }>();
  /** Late answers come right after the CLOSE; a bounded memory of recent ids is enough. */
  readonly #retired = new BoundedSet<string>(256);
  #reqs = 0;

  constructor(host: ReqHost) {
    this.#h = host;
  }

  /** Opens a subscription; it survives reconnects, recomputing `filters()` each time. */
  subscribe(id: string, filters: () => Filter[], handlers: SubscriptionHandlers): SubscriptionHandle {
    const sub: Sub = { id, filters, handlers, parts: [], eosed: false };
    this.#subs.set(id, sub);
    this.#send(sub);
    return {
      refresh: () => {
        if (this.#subs.get(id) === sub) this.#send(sub);
      },
      close: () => {
        if (this.#subs.get(id) !== sub) return;
        this.#subs.delete(id);
        for (const part of sub.parts) this.#retire(part);
      },
    };
  }

  /** A new socket is ready: every subscription is sent on it. */
  onReady(): void {
    this.#forgetWireIds();
    for (const sub of this.#subs.values()) this.#send(sub);
  }

  /** The socket is gone. */
  onGone(): void {
    this.#forgetWireIds();
  }

  /** Every AUTH in flight was answered: sends what waited, re-asks what was answered for fewer keys. */
  afterAuth(): void {
    const hopeless = !this.#h.auth.mayStillSucceed();
    for (const sub of this.#subs.values()) {
      // Every key was answered and none more was accepted: what was held back is as complete as it will get.
      if (hopeless) for (const p of sub.parts) if (p.state === 'held' && p.epoch === this.#h.auth.epoch) this.#eose(sub, p);
      const stale = sub.parts.filter((p) => p.gated && (p.state === 'waiting-auth' || ((p.state === 'open' || p.state === 'held' || p.state === 'eose') && p.epoch < this.#h.auth.epoch)));
      if (stale.length === 0) continue;
      // Once the subscription has reported EOSE, a re-asked part replays stored events: the whole thing is sent again.
      if (sub.eosed && stale.some((p) => p.state !== 'waiting-auth')) this.#send(sub);
      else for (const part of stale) this.#sendPart(sub, part);
    }
  }

  onEvent(wireId: string, event: NostrEvent, verified: (signature: boolean) => boolean): void {
    const entry = this.#wire.get(wireId);
    // Stored events of a REQ this side already replaced or closed: requested, just no longer wanted.
    if (!entry && this.#retired.has(wireId)) return;
    if (!entry || !matchFilters(entry.part.filters, event)) return this.#h.onUnrequested(event);
    if (!verified(entry.sub.handlers.signatureNeeded?.(event) ?? true)) return;
    entry.sub.handlers.onEvent(event);
  }

  onEose(wireId: string): void {
    // Only the current REQ's EOSE counts: a replaced REQ's late EOSE would end the new one's stored events early.
    const entry = this.#wire.get(wireId);
    if (!entry || entry.part.state !== 'open') return;
    this.#h.health(true);
    const { sub, part } = entry;
    const { auth, rules } = this.#h;
    if (part.gated && part.authedAtSend === 0 && auth.mayStillSucceed() && (rules.readsNeedAuth || auth.hasChallenge())) {
      part.state = 'held';
      this.#timer(part, () => {
        this.#h.log.log({ level: 'warn', ns: 'relay', msg: 'relay restricts reads but AUTH did not complete; its answer may be missing events', relay: this.#h.url, sub: sub.id });
        this.#eose(sub, part);
      });
      return;
    }
    this.#eose(sub, part);
  }

  onClosed(wireId: string, reason: string): void {
    const entry = this.#wire.get(wireId);
    if (!entry) return;
    const { sub, part } = entry;
    this.#wire.delete(wireId);
    part.wireId = undefined;
    const prefix = rejectionPrefix(reason);
    this.#h.health(prefix !== 'error' && prefix !== 'rate-limited', reason);
    if (prefix === 'auth-required') {
      this.#h.rules.learnRefusedRead(part.gated);
      if (part.authRetries < 3 && this.#h.auth.request()) {
        part.authRetries++;
        part.gated = true;
        part.state = 'waiting-auth';
        // Sent again by afterAuth; a relay that never challenges must not keep the subscription waiting forever.
        this.#timer(part, () => this.#close(sub, part, reason));
        return;
      }
    }
    this.#close(sub, part, reason);
  }

  #close(sub: Sub, part: Part, reason: string): void {
    part.timer?.abort();
    part.state = 'closed';
    this.#h.log.log({ level: 'debug', ns: 'relay', msg: 'subscription closed by relay', relay: this.#h.url, sub: sub.id, reason });
    sub.handlers.onClosed?.(reason);
  }

  #eose(sub: Sub, part: Part): void {
    part.timer?.abort();
    part.state = 'eose';
    if (sub.eosed || !sub.parts.every((p) => p.state === 'eose')) return;
    sub.eosed = true;
    sub.handlers.onEose?.();
  }

  /** Sends a whole subscription with freshly computed filters. */
  #send(sub: Sub): void {
    if (!this.#h.ready()) return;
    const filters = sub.filters();
    for (const part of sub.parts) this.#retire(part);
    sub.eosed = false;
    sub.parts = this.#h.rules.split(filters).map((p) => ({ ...p, state: 'unsent', epoch: 0, authedAtSend: 0, authRetries: 0 }));
    if (sub.parts.length === 0) return;
    for (const part of sub.parts) this.#sendPart(sub, part);
    sub.handlers.onSent?.();
  }

  #sendPart(sub: Sub, part: Part): void {
    this.#retire(part);
    const { auth } = this.#h;
    // Authenticate first: a restricted REQ sent while AUTH is under way would only be refused or answered short.
    if (part.gated && auth.inFlight()) {
      part.state = 'waiting-auth';
      return;
    }
    const wireId = `${sub.id}:${(++this.#reqs).toString(36)}`;
    part.wireId = wireId;
    part.state = 'open';
    part.epoch = auth.epoch;
    part.authedAtSend = auth.authenticated().length;
    this.#wire.set(wireId, { sub, part });
    this.#h.send(['REQ', wireId, ...part.filters]);
  }

  /** Closes a part's open REQ on this socket; its late answers are then ignored. */
  #retire(part: Part): void {
    part.timer?.abort();
    part.timer = undefined;
    if (part.wireId === undefined) return;
    this.#wire.delete(part.wireId);
    this.#retired.add(part.wireId);
    this.#h.send(['CLOSE', part.wireId]);
    part.wireId = undefined;
  }

  /** Calls `fire` after authWaitMs, unless the part moved on; AUTH still in flight then (a slow relay) earns another wait. */
  #timer(part: Part, fire: () => void): void {
    part.timer?.abort();
    const timer = new AbortController();
    part.timer = timer;
    this.#h.clock.sleep(this.#h.authWaitMs, { signal: timer.signal }).then(
      () => {
        if (part.timer !== timer) return;
        if (this.#h.auth.inFlight()) return this.#timer(part, fire);
        fire();
      },
      () => {},
    );
  }

  /** A new socket: no REQ is open on it yet. */
  #forgetWireIds(): void {
    for (const { part } of this.#wire.values()) {
      part.wireId = undefined;
      part.timer?.abort();
    }
    this.#wire.clear();
    this.#retired.clear();
  }
}
