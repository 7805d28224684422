/**
 * A trigger the gate refused (rate limit, a non-owner `/approve`, an exhausted budget): recorded
 * as a tick of its own, outcome `refused`, with the inbox row marked refused and any notice sent,
 * in one commit. The behavior never ran, so only the refusal's perceive step is recorded.
 */
import type { InboxEntry } from '../../storage/types.js';
import type { TrajectoryStep } from '../../trajectory/types.js';
import { commitTick, type CommitParams } from '../commit.js';
import { log } from '../env.js';
import { describeError } from '../errors.js';
import { emitCommitted } from '../failure.js';
import { errorCode } from '../../util/errors.js';
import type { RefuseHost } from './host.js';

/** What a refusal records. */
export type Refusal = Pick<CommitParams, 'record' | 'config' | 'startedAt' | 'trigger' | 'inbound' | 'intents'> & { entry: InboxEntry; reason: string };

/** A refused trigger: TickRecord outcome 'refused', inbox row refused, any notice sent. Never throws. */
export async function refuse(host: RefuseHost, p: Refusal): Promise<void> {
  const { env } = host;
  const steps: TrajectoryStep[] = [{ type: 'perceive', name: p.trigger.type, at: p.startedAt, ms: 0, detail: { refused: p.reason } }];
  try {
    const committed = await commitTick(env, {
      record: p.record,
      config: p.config,
      signer: host.live.get(p.record.index)?.signer ?? env.signerFor(p.record.index),
      startedAt: p.startedAt,
      trigger: p.trigger,
      steps,
      intents: p.intents,
      outcome: 'refused',
      error: p.reason,
      ...(p.inbound ? { inbound: p.inbound } : {}),
      usage: {},
      inbox: { id: p.entry.id, status: 'refused', reason: p.reason },
      skipMessages: true,
    });
    env.events.emit({ type: 'inbound.refused', agent: p.record.pubkey, at: env.clock.now(), reason: p.reason, ...(p.trigger.from ? { from: p.trigger.from } : {}), ...(p.trigger.eventId ? { eventId: p.trigger.eventId } : {}) });
    emitCommitted(env, p.record, committed);
  } catch (error) {
    if (errorCode(error) === 'LEASE_LOST') return;
    log(env, 'error', 'refusal commit failed', { agent: p.record.pubkey, inbox: p.entry.id, error: describeError(error) });
    host.retryAt(p.record.index, env.clock.now() + env.retryBaseMs);
  }
}
