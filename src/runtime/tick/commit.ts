/**
 * Phase 4, commit: a tick that ran commits in the one storage transaction (runtime/commit.ts):
 * its buffered writes, signed outgoing events, TickRecord, usage and the trigger's `done` mark,
 * together or not at all. That transaction is what makes a trigger answered exactly once: a
 * trigger another tick already finished is a STORAGE_CONFLICT and this tick is dropped; an agent
 * another daemon now holds is LEASE_LOST and its new holder runs the trigger.
 */
import { commitTick, type CommitParams, type Committed } from '../commit.js';
import { log } from '../env.js';
import type { FailureInput } from '../failure.js';
import { errorCode, isPermanent } from '../../util/errors.js';
import type { CommitHost } from './host.js';
import type { PreparedTick } from './prepare.js';
import { ranFailure, type Ran } from './run.js';

export type CommitResult = { type: 'dropped' } | { type: 'failed'; failure: FailureInput } | { type: 'committed'; committed: Committed };

const encoder = new TextEncoder();
const utf8Bytes = (text: string): number => encoder.encode(text).length;

/** The commit of a tick whose behavior ran. */
export function commitParams(tick: PreparedTick, ran: Ran): CommitParams {
  const { base, entry, parsed } = tick;
  const { state } = ran;
  const limit = base.config.budget.storageBytes;
  // The conversation log never makes a tick fail: past the storage budget it is left out.
  const logBytes = [base.inbound?.text ?? '', ...state.intents.map((i) => (i.type === 'note' ? '' : i.text))].reduce((n, text) => n + utf8Bytes(text), 0);
  const skipMessages = limit !== undefined && base.record.storageBytes + state.buffer.bytesDelta + logBytes > limit;
  return {
    ...base,
    signer: ran.live.signer,
    steps: state.steps,
    intents: state.intents,
    outcome: 'ok',
    buffer: state.buffer,
    schedules: state.schedules,
    usage: ran.usage,
    tokens: ran.tokens,
    result: { ok: true },
    inbox: { id: entry.id, status: 'done' },
    skipMessages,
    ...(parsed.action === 'create' ? { state: { to: 'active' } } : {}),
  };
}

/** Commits what the tick did; a commit that fails for another reason is a failed tick. */
export async function commit(host: CommitHost, tick: PreparedTick, ran: Ran): Promise<CommitResult> {
  const { env } = host;
  const { record } = tick.base;
  const params = commitParams(tick, ran);
  try {
    return { type: 'committed', committed: await commitTick(env, params) };
  } catch (error) {
    if (errorCode(error) === 'STORAGE_CONFLICT') {
      log(env, 'warn', 'trigger already handled; tick dropped', { agent: record.pubkey, inbox: tick.entry.id });
      return { type: 'dropped' };
    }
    // Another daemon holds the agent now: nothing was written, its new holder runs the trigger.
    if (errorCode(error) === 'LEASE_LOST') {
      log(env, 'warn', 'lease lost; tick rolled back', { agent: record.pubkey, inbox: tick.entry.id });
      return { type: 'dropped' };
    }
    return { type: 'failed', failure: ranFailure(tick, ran, error, !isPermanent(error)) };
  }
}
