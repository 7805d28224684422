/**
 * EVENT: shape checks that need no crypto happen here, synchronously; policy hooks, the signature check
 * and storage follow in the ingest pipeline, which answers OK in arrival order.
 */
import { Kind } from '../src/protocol/kinds.js';
import { EventSchema } from '../src/protocol/schema.js';
import type { Connection } from './connection.js';
import { expirationOf } from './event-meta.js';
import { firstIssue } from './prefix.js';
import type { Relay } from './relay.js';

/** Handles `["EVENT", event]`. */
export function handleEvent(relay: Relay, conn: Connection, msg: unknown[]): void {
  relay.stats.received++;
  const parsed = EventSchema.safeParse(msg[1]);
  if (!parsed.success) {
    relay.stats.invalid++;
    const id = (msg[1] as { id?: unknown } | undefined)?.id;
    const reason = `invalid: event ${firstIssue(parsed.error)}`;
    if (typeof id === 'string' && /^[0-9a-f]{64}$/.test(id)) conn.ok(id, false, reason);
    else relay.notice(conn, reason);
    return;
  }
  const event = parsed.data;
  const refuse = (reason: string): void => {
    relay.stats.invalid++;
    conn.ok(event.id, false, reason);
  };
  if (event.kind === Kind.ClientAuth) return refuse('invalid: kind 22242 is sent with AUTH, never published');
  const expiration = expirationOf(event);
  if (expiration !== undefined) {
    if (Number.isNaN(expiration)) return refuse('invalid: the expiration tag must be a unix timestamp');
    if (expiration <= relay.nowSeconds()) return refuse('invalid: this event has already expired');
  }
  relay.ingest.submit(conn, event);
}
