/**
 * What happens after a tick fails: the failed TickRecord commits (none of the tick's effects), the
 * trigger is deferred with exponential backoff or marked failed (timeouts and other errors that
 * would fail the same way again are never re-run), and after N consecutive failures the agent goes
 * `failed` and its owner gets a DM saying why, queued in the same transaction. A failure the
 * trigger's input caused is none of this: it is refused (refuse-input.ts) and never counted.
 */
import type { InboundMessage } from '../relay/types.js';
import type { AgentRecord, InboxEntry, NewMessage, StorageTx, UsageDelta } from '../storage/types.js';
import type { TickOutcome, TrajectoryStep, TrajectoryTrigger } from '../trajectory/types.js';
import type { AgentConfig } from './agent-config.js';
import { hookContext, safeHook, type LiveAgent } from './agent.js';
import { commitTick, type Committed } from './commit.js';
import { log, type EngineEnv } from './env.js';
import { TickTimeoutError, describeError } from './errors.js';
import type { TickHost } from './tick/host.js';
import type { OutboundIntent } from './types.js';
import { errorCode, isInputFault } from '../util/errors.js';

/** A failed tick's facts. */
export interface FailureInput {
  record: AgentRecord;
  config: AgentConfig;
  entry: InboxEntry;
  startedAt: number;
  trigger: TrajectoryTrigger;
  steps: TrajectoryStep[];
  error: unknown;
  retryable: boolean;
  usage?: UsageDelta;
  tokens?: { input: number; output: number };
  inbound?: NewMessage;
  /** The message the trigger carried: an input refusal answers it with a short notice. */
  source?: InboundMessage;
  live?: LiveAgent;
}

/** Backoff before retry `attempt` (1-based): base × 2^(attempt−1), capped. */
export function retryDelay(env: Pick<EngineEnv, 'retryBaseMs' | 'retryMaxMs'>, attempt: number): number {
  return Math.min(env.retryMaxMs, env.retryBaseMs * 2 ** Math.max(0, attempt - 1));
}

/** The owner's DM when an agent gives up. */
export function failedNotice(record: AgentRecord, failures: number, error: string): string {
  return `Agent "${record.name}" stopped after ${failures} consecutive failed ticks and is now in state "failed". Last error: ${error}. Send /resume (or run \`agent recover ${record.name}\`) to bring it back.`;
}

/** Emits tick.finished, budget and state events for a commit. */
export function emitCommitted(env: EngineEnv, before: AgentRecord, committed: Committed): void {
  const at = env.clock.now();
  env.events.emit({ type: 'tick.finished', agent: before.pubkey, at, record: committed.tick });
  for (const m of committed.notices) {
    env.events.emit({ type: m.level === 80 ? 'budget.warning' : 'budget.exhausted', agent: before.pubkey, at, resource: m.metric, used: m.used, limit: m.limit });
  }
  if (committed.record.state !== before.state) {
    env.events.emit({ type: 'agent.state', agent: before.pubkey, at, from: before.state, to: committed.record.state, ...(committed.record.lastError ? { reason: committed.record.lastError } : {}) });
  }
}

/** Records a failed tick and decides the trigger's fate. Never throws. */
export async function finishFailure(host: TickHost, f: FailureInput): Promise<void> {
  if (isInputFault(f.error)) return refuseInput(host, f);
  const { env } = host;
  const now = env.clock.now();
  const message = describeError(f.error);
  const outcome: TickOutcome = f.error instanceof TickTimeoutError ? 'aborted' : 'error';
  const attempt = f.entry.attempts + 1;
  const failures = f.record.consecutiveFailures + 1;
  const givingUp = failures >= env.maxConsecutiveFailures;
  const retry = f.retryable && !givingUp;
  const retryAt = now + retryDelay(env, attempt);
  const intents: OutboundIntent[] = givingUp ? [{ type: 'dm', recipient: env.ownerPubkey, text: failedNotice(f.record, failures, message) }] : [];
  const steps: TrajectoryStep[] = [...f.steps, { type: 'error', name: (f.error as Error)?.name ?? 'Error', at: now, ms: 0, detail: { message, attempt, retry } }];
  log(env, retry ? 'warn' : 'error', 'tick failed', { agent: f.record.pubkey, inbox: f.entry.id, attempt, retry, error: message });
  let committed: Committed | undefined;
  try {
    committed = await commitTick(env, {
      record: f.record,
      config: f.config,
      signer: f.live?.signer ?? env.signerFor(f.record.index),
      startedAt: f.startedAt,
      trigger: f.trigger,
      steps,
      intents,
      outcome,
      error: message,
      usage: f.usage ?? { computeMs: now - f.startedAt },
      ...(f.tokens ? { tokens: f.tokens } : {}),
      result: { ok: false, error: message },
      ...(retry
        ? { also: (tx: StorageTx) => tx.inbox.recordAttempt(f.entry.id, { error: message, retryAt, now }) }
        : { inbox: { id: f.entry.id, status: 'failed' as const, reason: givingUp && f.retryable ? `gave up after ${failures} consecutive failures: ${message}` : message } }),
      ...(givingUp ? { state: { to: 'failed' as const, error: message } } : {}),
    });
  } catch (error) {
    if (errorCode(error) === 'STORAGE_CONFLICT' || errorCode(error) === 'LEASE_LOST') return;
    log(env, 'error', 'could not record a failed tick', { agent: f.record.pubkey, inbox: f.entry.id, error: describeError(error) });
  }
  if (retry || !committed) {
    host.retryAt(f.record.index, retryAt);
    env.events.emit({ type: 'tick.retry', agent: f.record.pubkey, at: now, attempt, delayMs: retryAt - now, error: message });
  }
  if (committed) emitCommitted(env, f.record, committed);
  const behavior = f.live?.behavior ?? env.behaviors.get(f.record.behavior);
  await safeHook(env, 'onError', f.record, behavior?.onError && (() => behavior.onError?.(hookContext(env, f.record), { error: f.error, message, trigger: f.entry.trigger, attempt, willRetry: retry })));
  if (givingUp) await host.live.drop(f.record.index, { keepState: true });
}

/** The few words a sender gets when its message cannot be answered. */
export function inputNotice(error: unknown): string {
  return errorCode(error) === 'INPUT_TOO_LARGE' ? 'Sorry, that message is too long for me to answer.' : 'Sorry, I could not read that message.';
}

/**
 * A reply target for the notice: the sender alone, in the protocol it wrote by, with none of the
 * tags it chose (subject, participants, thread, relay hints): those may be what made answering impossible.
 */
function noticeTarget(message: InboundMessage): InboundMessage {
  const { subject: _subject, ...rest } = message;
  const parentEvent = { id: message.replyTo.parentId, pubkey: message.sender, kind: message.replyTo.parentEvent?.kind ?? 1, tags: [] };
  return { ...rest, replyTo: { parentId: message.replyTo.parentId, participants: [message.sender], ...(message.replyTo.relay !== undefined ? { relay: message.replyTo.relay } : {}), parentEvent } };
}

/**
 * A failure the trigger's input caused (too large to answer, undecodable): the trigger is refused
 * with its reason and the sender gets a short notice; never retried, never counted toward the
 * agent's consecutive-failure breaker (no tick result is recorded), nothing else of the tick kept.
 */
async function refuseInput(host: TickHost, f: FailureInput): Promise<void> {
  const { env } = host;
  const reason = `${errorCode(f.error)}: ${(f.error as Error).message}`;
  const steps: TrajectoryStep[] = [...f.steps, { type: 'error', name: (f.error as Error).name, at: env.clock.now(), ms: 0, detail: { message: reason, attempt: f.entry.attempts + 1, retry: false } }];
  const notice: OutboundIntent[] = f.source ? [{ type: 'reply', to: noticeTarget(f.source), text: inputNotice(f.error) }] : [];
  log(env, 'warn', 'input refused', { agent: f.record.pubkey, inbox: f.entry.id, reason });
  // Without the notice if even that cannot be built: the refusal itself must always commit.
  for (const intents of notice.length > 0 ? [notice, []] : [[]]) {
    try {
      const committed = await commitTick(env, {
        record: f.record,
        config: f.config,
        signer: f.live?.signer ?? env.signerFor(f.record.index),
        startedAt: f.startedAt,
        trigger: f.trigger,
        steps,
        intents,
        outcome: 'refused',
        error: reason,
        ...(f.inbound ? { inbound: f.inbound } : {}),
        usage: f.usage ?? { computeMs: env.clock.now() - f.startedAt },
        ...(f.tokens ? { tokens: f.tokens } : {}),
        inbox: { id: f.entry.id, status: 'refused', reason },
        skipMessages: true,
      });
      env.events.emit({ type: 'inbound.refused', agent: f.record.pubkey, at: env.clock.now(), reason, ...(f.trigger.from ? { from: f.trigger.from } : {}), ...(f.trigger.eventId ? { eventId: f.trigger.eventId } : {}) });
      emitCommitted(env, f.record, committed);
      return;
    } catch (error) {
      if (errorCode(error) === 'STORAGE_CONFLICT') return;
      log(env, 'error', 'could not record an input refusal', { agent: f.record.pubkey, inbox: f.entry.id, notice: intents.length > 0, error: describeError(error) });
    }
  }
  host.retryAt(f.record.index, env.clock.now() + env.retryBaseMs);
}
