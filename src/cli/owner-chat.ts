/**
 * The owner's side of a conversation with an agent, as a phone client would do it: NIP-17 DMs
 * signed by the owner key (account 0), sent to the agent's relays, and replies read from a live
 * subscription to the gift wraps addressed to the owner. Used by `agent send` and `agent chat`.
 */
import type { AgentSummary } from '../control/types.js';
import type { NostrEvent } from '../protocol/event.js';
import { Kind } from '../protocol/kinds.js';
import { parseChatRumor } from '../protocol/nip17.js';
import { MAX_BACKDATE_SECONDS, unwrapGift } from '../protocol/nip59.js';
import { planDirectMessage, wrapOwnCopies, wrapToRecipients } from '../relay/reply.js';
import type { RelayPublishResult } from '../relay/types.js';
import { WsRelayPool } from '../relay/relay-pool.js';
import type { Signer } from '../signer/types.js';
import { CliError } from './errors.js';
import { openExistingStorage } from './home-context.js';
import { BoundedSet } from '../util/bounded-set.js';

/** How long `send` waits for the reply subscription before publishing anyway (ms). */
const READY_WAIT_MS = 5000;
/** How many received messages are kept for `waitForReply`. */
const RECENT = 100;

/** A message in the owner's view of a conversation. */
export interface OwnerChatMessage {
  id: string;
  from: 'owner' | 'agent';
  text: string;
  at: number;
  /** The message this one answers (NIP-17 `e` tag), when it says. */
  replyTo?: string;
  status?: 'sending' | 'sent' | 'failed';
  error?: string;
}

/** Options of `createOwnerChat`. */
export interface OwnerChatOptions {
  owner: Signer;
  /** Relays to listen on for replies (every agent's relays). */
  relays: string[];
  /** The home's agent database URL, for history (optional). */
  databaseUrl?: string;
}

/** A live owner-side DM session. Implements the TUI's ChatTransport. */
export class OwnerChat {
  readonly #owner: Signer;
  readonly #pool: WsRelayPool;
  readonly #listeners = new Set<(agentPubkey: string, message: OwnerChatMessage) => void>();
  readonly #stop = new AbortController();
  readonly #databaseUrl?: string;
  readonly ready: Promise<void>;
  /** Messages received since the first send (bounded), so a reply that beats `waitForReply` is kept. */
  readonly #recent: Array<{ agent: string; message: OwnerChatMessage }> = [];
  readonly #seen = new Set<string>();
  /** Ids of the wraps this session published (bounded), so their copies coming back are not opened again. */
  readonly #sentWraps = new BoundedSet<string>(4 * RECENT);
  #sending = false;

  constructor(options: OwnerChatOptions) {
    this.#owner = options.owner;
    this.#databaseUrl = options.databaseUrl;
    this.#pool = new WsRelayPool({ relays: options.relays });
    this.#pool.addAuthSigner(options.owner);
    this.ready = this.#listen();
  }

  /**
   * Resolves once every relay has answered the subscription. Stored events that arrive before the
   * first send are history (the local store has it) and are skipped; anything that arrives after a
   * send is considered, stored or live, so a reply that lands before a slow relay's EOSE is not lost.
   */
  async #listen(): Promise<void> {
    const since = Math.floor(Date.now() / 1000) - MAX_BACKDATE_SECONDS - 60;
    const filters = [{ kinds: [Kind.GiftWrap], '#p': [this.#owner.getPublicKey()], since }];
    let live = false;
    let markReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    void (async () => {
      try {
        // The owner's own copies are dropped unopened (#receive): their Schnorr check would tell nothing
        // (the pool still checks that each one's content hashes to its id, the id this session signed).
        for await (const item of this.#pool.req(filters, { signal: this.#stop.signal, signatureNeeded: (event) => !this.#sentWraps.has(event.id) })) {
          if (item.type === 'eose') {
            live = true;
            markReady();
          } else if (live || this.#sending) this.#receive(item.event);
        }
      } catch {
        // The pool ends the stream on close; nothing to report.
      } finally {
        markReady();
      }
    })();
    return ready;
  }

  #receive(wrap: NostrEvent): void {
    // The owner's own copy of what it just sent, echoed by the relay: nothing to read (two ECDHs saved here, its signature check in the pool).
    if (this.#sentWraps.has(wrap.id)) return;
    const opened = unwrapGift(wrap, this.#owner);
    if (!opened.ok || opened.rumor.kind !== Kind.ChatMessage) return;
    const chat = parseChatRumor(opened.rumor);
    if (opened.rumor.pubkey === this.#owner.getPublicKey() || this.#seen.has(opened.rumor.id)) return;
    this.#seen.add(opened.rumor.id);
    const message: OwnerChatMessage = { id: opened.rumor.id, from: 'agent', text: chat.text, at: opened.rumor.created_at * 1000, replyTo: chat.parentId };
    this.#recent.push({ agent: opened.rumor.pubkey, message });
    if (this.#recent.length > RECENT) this.#recent.shift();
    for (const listener of this.#listeners) listener(opened.rumor.pubkey, message);
  }

  /** Sends a NIP-17 DM to the agent through its relays; resolves with the rumor id once a relay accepted the wrap. */
  async send(agent: Pick<AgentSummary, 'publicKey' | 'relays' | 'name'>, text: string): Promise<{ id: string; accepted: string[] }> {
    // Listening first means a fast reply is not missed; but an unreachable relay must not hold the
    // send forever: after a few seconds publish anyway and let the relays' answers speak.
    await Promise.race([this.ready, new Promise((resolve) => setTimeout(resolve, READY_WAIT_MS).unref())]);
    this.#sending = true;
    const me = this.#owner.getPublicKey();
    const plan = planDirectMessage(me, agent.publicKey, text);
    const publish = (wraps: NostrEvent[]): Promise<RelayPublishResult[][]> => {
      for (const wrap of wraps) this.#sentWraps.add(wrap.id);
      return Promise.all(wraps.map((wrap) => this.#pool.publish(wrap, { relays: agent.relays, timeoutMs: 10_000 })));
    };
    // The wraps to the agent are built and go out first; the owner's own copies (NIP-17's copy to the
    // sender, so its other clients see what it said) on the next turn, once those frames are written
    // (the connection corks its socket for the turn): their two signatures, ECDH and encryptions then
    // overlap with the relay's check and the daemon's unwrap instead of delaying both. `send` still
    // resolves only once the copies' publishes have settled too, as when they went out together.
    const toAgent = publish(wrapToRecipients(plan, this.#owner).map(({ event }) => event));
    const ownCopies = new Promise<RelayPublishResult[][]>((resolve, reject) =>
      setImmediate(() => {
        try {
          resolve(publish(wrapOwnCopies(plan, this.#owner)));
        } catch (error) {
          reject(error);
        }
      }),
    );
    const [results] = await Promise.all([toAgent, ownCopies]);
    // Accepted as before: the relays that took the (first part's) wrap to the agent.
    const rumorId = plan.rumors[0]?.id ?? '';
    const first = results[0] ?? [];
    const accepted = first.filter((r) => r.ok).map((r) => r.relay);
    if (accepted.length === 0) {
      const why = first.map((r) => `${r.relay}: ${r.message || 'no answer'}`).join('; ');
      throw new CliError(`no relay accepted the message for "${agent.name}" (${why || 'no relays'})`);
    }
    return { id: rumorId, accepted };
  }

  /** Every message from an agent to the owner as it arrives; returns the unsubscribe function. */
  onMessage(listener: (agentPubkey: string, message: OwnerChatMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Waits for the agent's answer to `rumorId` (or any unthreaded message from it) until the timeout. */
  waitForReply(agentPubkey: string, rumorId: string, timeoutMs: number): Promise<OwnerChatMessage | undefined> {
    const matches = (from: string, message: OwnerChatMessage): boolean => from === agentPubkey && (message.replyTo === rumorId || message.replyTo === undefined);
    const early = this.#recent.find((r) => matches(r.agent, r.message));
    if (early) return Promise.resolve(early.message);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const unsubscribe = this.onMessage((from, message) => {
        if (matches(from, message)) finish(message);
      });
      function finish(message: OwnerChatMessage | undefined): void {
        clearTimeout(timer);
        unsubscribe();
        resolve(message);
      }
    });
  }

  /** The conversation so far, from the agent's own record of it (owner messages are "in" for the agent). */
  async history(agent: Pick<AgentSummary, 'index'>, options: { limit?: number } = {}): Promise<OwnerChatMessage[]> {
    if (!this.#databaseUrl) return [];
    const storage = await openExistingStorage({ databaseUrl: this.#databaseUrl });
    if (!storage) return [];
    try {
      return (await storage.conversations(agent.index).history(this.#owner.getPublicKey(), options.limit ?? 50)).map((m) => ({
        id: m.eventId ?? `local-${m.id}`,
        from: m.direction === 'in' ? 'owner' : 'agent',
        text: m.text,
        at: m.at,
        status: 'sent',
      }));
    } finally {
      await storage.close();
    }
  }

  /** Relay states, for a status bar. */
  relays(): Array<{ url: string; state: string }> {
    return this.#pool.status().map((s) => ({ url: s.url, state: s.state }));
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#pool.close();
  }
}

/** Opens an owner chat over the given relays. */
export async function createOwnerChat(options: OwnerChatOptions): Promise<OwnerChat> {
  return new OwnerChat(options);
}
