/** The one line per tick `agent run` writes to stderr. */
import type { TickRecord } from '../trajectory/types.js';
import type { LogRecord } from '../util/logger.js';

/** A log record summarizing a finished tick (no message text: it may be private). */
export function tickLogLine(agent: string, record: TickRecord): LogRecord {
  return {
    level: record.outcome === 'ok' ? 'info' : 'warn',
    ns: 'tick',
    msg: `${agent} #${record.seq} ${record.trigger.type} → ${record.outcome}`,
    agent,
    seq: record.seq,
    trigger: record.trigger.type,
    outcome: record.outcome,
    ms: record.endedAt - record.startedAt,
    sent: record.sentEventIds.length,
    ...(record.error ? { error: record.error } : {}),
  };
}
