/** NIP-45 COUNT: the same checks as REQ, answered with `["COUNT", subId, {"count": n}]` (exact). */
import type { Connection } from './connection.js';
import { parseSubscription } from './querying.js';
import type { Relay } from './relay.js';

/** Handles `["COUNT", subId, ...filters]`. */
export function handleCount(relay: Relay, conn: Connection, msg: unknown[]): void {
  const sub = parseSubscription(relay, conn, msg);
  if (!sub) return;
  let count: number;
  try {
    count = relay.store.count(sub.filters, relay.scope(conn));
  } catch (error) {
    relay.logger.log({ level: 'error', ns: 'relay', msg: 'count failed', error: String(error) });
    conn.closed(sub.id, 'error: the count failed');
    return;
  }
  conn.send(JSON.stringify(['COUNT', sub.id, { count }]));
}
