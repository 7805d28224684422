/**
 * The runtime's seams: what a behavior sees (TickContext, the trigger shapes, the hooks) and what
 * the composition root injects (OutboundBuilder). Behaviors are written against these types through
 * `defineAgent` (src/behaviors/define-agent.ts), which re-exports them.
 */
import type { NostrEvent } from '../protocol/event.js';
import type { InboundMessage, OutgoingEvent } from '../relay/types.js';
import type { Signer } from '../signer/types.js';
import type { AgentRecord, ConversationMessage, Fact, JsonValue, StorageTx } from '../storage/types.js';
import type { ToolCapabilities, ToolContext } from '../think/tools/types.js';
import type { Tool } from '../think/tools/types.js';
import type { ThinkProvider } from '../think/types.js';
import type { StepType, TickRecord } from '../trajectory/types.js';
import type { AgentConfig, DmPolicy } from './agent-config.js';
import type { WatchRef } from './watch.js';

export type { WatchRef } from './watch.js';
import type { AgentState } from './lifecycle.js';

/** A value or a promise of it. */
export type Awaitable<T> = T | Promise<T>;

/** Who the agent is, as a behavior sees it (no key material). */
export interface AgentInfo {
  index: number;
  name: string;
  pubkey: string;
  behavior: string;
  ownerPubkey: string;
  state: AgentState;
  /** Ticks finished before this one. */
  ticks: number;
}

/** A DM, a mention, or a manual poke, as handed to `onMessage` / `onMention`. */
export interface IncomingMessage {
  kind: 'dm' | 'mention' | 'manual';
  /** `manual` for a poke (CLI / control API); otherwise the wire protocol it came by. */
  protocol: InboundMessage['protocol'] | 'manual';
  sender: string;
  text: string;
  /** True when the sender is the owner's key. */
  fromOwner: boolean;
  eventId?: string;
  subject?: string;
  /** Unix seconds (the message's own time). */
  createdAt: number;
}

/** An alarm firing, as handed to `onAlarm`. */
export interface AlarmFiring {
  scheduleId: number;
  key?: string;
  /** The note given to `ctx.schedule`. */
  note: string;
  /** Extra data given to `ctx.schedule` (JSON). */
  data?: JsonValue;
  /** When it was due (ms); `firedAt - dueAt` is how late it is (after downtime, once). */
  dueAt: number;
  firedAt: number;
}

/** A signed webhook delivery, as handed to `onWebhook`. */
export interface WebhookDelivery {
  /** The hook's name (`agent hook <agent> add <name>`). */
  hook: string;
  /** The sender's `X-Delivery-Id`. */
  deliveryId: string;
  /** The POSTed JSON body (its signature was checked). */
  body: JsonValue;
  /** When the daemon accepted it (ms). */
  receivedAt: number;
  /** What the owner said to do with this hook's deliveries. */
  prompt?: string;
}

/** What woke the tick. An `event` is a watched Nostr event (`source: 'watch'`) or a signed webhook. */
export type Trigger =
  | { type: 'dm'; inboxId: number; message: IncomingMessage; inbound: InboundMessage }
  | { type: 'mention'; inboxId: number; message: IncomingMessage; inbound: InboundMessage }
  | { type: 'manual'; inboxId: number; message: IncomingMessage }
  | { type: 'alarm'; inboxId: number; alarm: AlarmFiring }
  | { type: 'event'; source: 'watch'; inboxId: number; event: NostrEvent; watch?: WatchRef }
  | { type: 'event'; source: 'webhook'; inboxId: number; webhook: WebhookDelivery };

/** What `ctx.delegate` takes. */
export interface DelegateOptions {
  /** How long to wait for the reply, ms (default 60 000); then onDelegateReply gets `timedOut`. */
  timeoutMs?: number;
  /** Kept with the delegation and handed back to onDelegateReply (JSON). */
  state?: JsonValue;
}

/** The outcome of a delegation, handed to `onDelegateReply` in a later tick. */
export interface DelegationResult {
  id: string;
  /** The delegate's hex public key (and its name, when it was asked by name). */
  target: string;
  targetName?: string;
  /** What was asked. */
  text: string;
  /** The delegate's answer; undefined when it did not reply in time. */
  reply?: string;
  timedOut: boolean;
  state?: JsonValue;
  /** Who the answer is for (`ctx.reply` in onDelegateReply answers them). */
  requester: string;
}

/** The owner's decision on an approval request, handed to `onApproval` in a later tick. */
export interface ApprovalResult {
  code: string;
  /** The tool that waited (`server.tool` for MCP tools) and its call's id. */
  tool: string;
  callId: string;
  approved: boolean;
  /** `timeout`: the owner did not answer in time (treated as denied). */
  decision: 'approved' | 'denied' | 'timeout';
  /** Who the answer is for (`ctx.reply` in onApproval answers them). */
  requester: string;
  state?: JsonValue;
}

/** What `ctx.requestApproval` takes (see src/runtime/approvals.ts). */
export interface ApprovalRequestInput {
  tool: string;
  callId: string;
  arguments: string;
  reason: string;
  why?: string;
  state?: JsonValue;
}

/** When a schedule fires: exactly one of `in` (ms or "5m"), `at` (ms or Date), `every` (ms or "1h"), `cron` (5-field, UTC). */
export interface ScheduleRequest {
  in?: number | string;
  at?: number | Date;
  every?: number | string;
  cron?: string;
  /** What the alarm is about; comes back as `alarm.note`. */
  note?: string;
  /** Extra JSON data; comes back as `alarm.data`. */
  data?: JsonValue;
  /** Idempotency key: scheduling the same key again keeps the existing alarm. */
  key?: string;
}

/** What `ctx.schedule` answers: when the alarm will first fire. */
export interface ScheduledAlarm {
  /** ms since epoch (for `cron`, computed at commit: undefined here). */
  firstAt?: number;
  key?: string;
}

/**
 * The agent's memory within one tick: reads see the tick's own buffered writes; writes commit with
 * the tick. Every method that may read storage is async (await it: a forgotten await fails lint).
 */
export interface TickMemory {
  get<T = JsonValue>(key: string): Promise<T | undefined>;
  /** Rejects with StorageBudgetExceededError (code STORAGE_BUDGET_EXCEEDED) when the write would pass the agent's storage budget. */
  set(key: string, value: JsonValue): Promise<void>;
  delete(key: string): Promise<boolean>;
  list(prefix?: string): Promise<Array<{ key: string; value: JsonValue }>>;
  /** Stores a fact (searchable after the tick commits; this tick's recall sees it too). Synchronous: it only buffers. */
  remember(text: string, options?: { tags?: string[] }): void;
  /** Facts matching any of the words, best first. */
  recall(words: string, limit?: number): Promise<Fact[]>;
  /** Forgets the facts containing all the words; returns how many. */
  forget(words: string): Promise<number>;
  /** The conversation with `peer` (default: the trigger's sender), oldest first, including this tick's messages. */
  history(peer?: string, limit?: number): Promise<ConversationMessage[]>;
}

/** Today's use of each budgeted resource against its limit (undefined limit = unlimited). */
export interface BudgetView {
  day: string;
  computeMs: { used: number; limit?: number };
  llmCalls: { used: number; limit?: number };
  tokens: { used: number; limit?: number };
  sats: { used: number; limit?: number };
  storageBytes: { used: number; limit?: number };
  maxTickMs: number;
}

/** What a behavior can do in one tick. Every effect is buffered and commits with the tick, or not at all. */
export interface TickContext {
  readonly agent: AgentInfo;
  readonly trigger: Trigger;
  /** Aborted when the tick passes its max duration or the runtime stops. */
  readonly signal: AbortSignal;
  now(): number;
  /** Answers the trigger by the protocol it came by (NIP-17 → NIP-17, NIP-04 → NIP-04, mention → kind 1 reply); a poke or alarm gets a DM to the owner. */
  reply(text: string): void;
  /** A new NIP-17 DM to a hex public key. */
  sendDm(pubkey: string, text: string): void;
  /** A kind 1 note. */
  publishNote(text: string): void;
  readonly memory: TickMemory;
  schedule(request: ScheduleRequest): ScheduledAlarm;
  /** Cancels by key or id; true when there was one. */
  cancelSchedule(keyOrId: string | number): Promise<boolean>;
  /** Adds sats spent to today's ledger; throws BudgetExceededError past the daily limit. */
  spendSats(sats: number): void;
  /** Today's budget use (including this tick so far). */
  budget(): BudgetView;
  /** The agent's LLM, counted against its budgets; undefined when none is configured. */
  readonly think?: ThinkProvider;
  /** The agent's LLM settings from its config (system prompt, context budget). */
  readonly llm: { system?: string; contextTokens: number };
  /** What the agent's config grants its tool loop (tools, http hosts, DM targets). */
  readonly capabilities: ToolCapabilities;
  /**
   * A ToolContext over this tick for src/think's tool loop. `capabilities` may narrow the config's
   * grant, never widen it. Its `delegate` suspends the loop (ToolSuspendedError): use `ctx.delegate`.
   */
  tools(capabilities?: ToolCapabilities): ToolContext;
  /**
   * Asks another agent (hex, npub, or the name of an agent in this home) by NIP-17 DM. The DM and a
   * pending record commit with this tick; the reply (or the timeout) comes to `onDelegateReply` in a
   * later tick, exactly once. Throws TypeError for an unknown name or bad key.
   */
  delegate(target: string, text: string, options?: DelegateOptions): Promise<{ id: string; target: string }>;
  /**
   * Asks the owner to approve a tool call (the tool loop was suspended for it): a pending record, a DM
   * to the owner with a short code and a timeout alarm commit with this tick; the owner's
   * `/approve CODE` or `/deny CODE` (or the timeout) comes to `onApproval` in a later tick, once.
   */
  requestApproval(request: ApprovalRequestInput): Promise<{ code: string; deadline: number }>;
  log(msg: string, fields?: Record<string, unknown>): void;
  /** Runs `fn` as a recorded, timed trajectory step. */
  step<T>(type: StepType, name: string, fn: () => Awaitable<T>, detail?: Record<string, unknown>): Promise<T>;
}

/** What hooks outside a tick (onSleep, onTerminate, onError) get: who, when, and a logger. */
export interface HookContext {
  readonly agent: AgentInfo;
  now(): number;
  log(msg: string, fields?: Record<string, unknown>): void;
}

/** Why a tick failed, for onError. */
export interface TickFailure {
  error: unknown;
  message: string;
  trigger: Trigger['type'];
  attempt: number;
  /** True when the trigger will be tried again. */
  willRetry: boolean;
}

/** A behavior: what an agent does on each trigger. Built with `defineAgent`. */
export interface AgentBehavior {
  name: string;
  about: string;
  /** The DM policy when the agent's config sets none. Default `open`. */
  defaultDmPolicy?: DmPolicy;
  onMessage?(ctx: TickContext, message: IncomingMessage): Awaitable<void>;
  onMention?(ctx: TickContext, message: IncomingMessage): Awaitable<void>;
  onAlarm?(ctx: TickContext, alarm: AlarmFiring): Awaitable<void>;
  /** A watched event matched (`watch`: which watch, and its prompt). */
  onEvent?(ctx: TickContext, event: NostrEvent, watch?: WatchRef): Awaitable<void>;
  /** A signed webhook arrived. */
  onWebhook?(ctx: TickContext, delivery: WebhookDelivery): Awaitable<void>;
  /**
   * A delegation started with `ctx.delegate` got its reply, or timed out. `ctx.reply` answers the
   * one who asked originally. Default: forward the reply (or "no reply") to them.
   */
  onDelegateReply?(ctx: TickContext, result: DelegationResult): Awaitable<void>;
  /**
   * The owner decided on an approval this agent asked for (or it timed out). `ctx.reply` answers the
   * one who asked originally. defineAgent supplies one that resumes the LLM tool loop.
   */
  onApproval?(ctx: TickContext, result: ApprovalResult): Awaitable<void>;
  /** Tools this behavior adds for the LLM tool loop. */
  tools?: Tool[];
  /** Runs in the agent's first tick (its writes commit with it). */
  onCreate?(ctx: TickContext): Awaitable<void>;
  /** Runs at the start of the first tick after the agent was loaded into memory. */
  onWake?(ctx: TickContext): Awaitable<void>;
  /** The agent is leaving memory (hibernation or shutdown): release caches. No state writes. */
  onSleep?(ctx: HookContext): Awaitable<void>;
  onTerminate?(ctx: HookContext): Awaitable<void>;
  onError?(ctx: HookContext, failure: TickFailure): Awaitable<void>;
}

/** Behaviors by name. */
export type BehaviorRegistry = ReadonlyMap<string, AgentBehavior> | Record<string, AgentBehavior>;

/** Time and randomness for building outgoing events (NIP-59 backdating, one-time wrap keys). */
export interface OutboundEntropy {
  /** Unix seconds. */
  now: number;
  random: () => number;
  newWrapKey: () => Uint8Array;
}

/** An effect a tick asked for, turned into signed events at commit time. */
export type OutboundIntent =
  | { type: 'reply'; to: InboundMessage; text: string }
  | { type: 'dm'; recipient: string; text: string; replyTo?: { id: string }; subject?: string; createdAt?: number }
  | { type: 'note'; text: string };

/**
 * Publishes each committed tick as a trajectory (src/trajectory, wired by the composition root).
 * Called INSIDE the tick's transaction, after its rows are written: it queues the signed trajectory
 * events in the outbox and persists its chain state there too, so a rolled-back tick leaves no trace.
 */
export interface TrajectorySink {
  /** Runs inside the tick's commit: every write goes through `tx`, so it commits with the tick or not at all. */
  record(input: { tx: StorageTx; tick: TickRecord; agent: AgentRecord; signer: Signer; config: AgentConfig; now: number }): Promise<void>;
}

/** Turns intents into signed events with their outbox targets (NIP-17, NIP-04 and NIP-10 rules). */
export interface OutboundBuilder {
  build(intent: OutboundIntent, signer: Signer, entropy: OutboundEntropy): OutgoingEvent[];
}
