/**
 * NIP-42 AUTH. The challenge goes out on connect; a client answers with a kind 22242 event carrying
 * the challenge and this relay's URL, signed within ten minutes of now. Several pubkeys may authenticate
 * on one connection. The `relay` tag is matched by host name (NIP-42: "checking the domain name should be
 * enough"), against the Host the client connected to or the configured public URL; loopback names are one.
 */
import { verifyEvent } from '../src/protocol/crypto.js';
import { tagValue, type NostrEvent } from '../src/protocol/event.js';
import { Kind } from '../src/protocol/kinds.js';
import { EventSchema } from '../src/protocol/schema.js';
import type { Connection } from './connection.js';
import { firstIssue } from './prefix.js';
import type { Relay } from './relay.js';

/** How far created_at may be from now, in seconds. */
export const AUTH_WINDOW_SECONDS = 600;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

function hostName(hostOrUrl: string): string | undefined {
  try {
    const url = new URL(hostOrUrl.includes('://') ? hostOrUrl : `ws://${hostOrUrl}`);
    const name = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
    return LOOPBACK.has(name) ? 'loopback' : name;
  } catch {
    return undefined;
  }
}

/** Why an AUTH event is not acceptable on this connection, or undefined when it is. */
export function authProblem(relay: Relay, conn: Connection, event: NostrEvent): string | undefined {
  if (event.kind !== Kind.ClientAuth) return `invalid: AUTH needs kind ${Kind.ClientAuth}, got ${event.kind}`;
  if (!conn.challenged || tagValue(event, 'challenge') !== conn.challenge) return 'invalid: the challenge tag does not match';
  const relayTag = tagValue(event, 'relay') ?? '';
  if (!/^wss?:\/\//i.test(relayTag)) return 'invalid: the relay tag must be this relay\'s ws:// or wss:// URL';
  const claimed = hostName(relayTag);
  const accepted = [hostName(conn.host), relay.publicUrl ? hostName(relay.publicUrl) : undefined];
  if (claimed === undefined || !accepted.includes(claimed)) return 'invalid: the relay tag names another relay';
  const skew = Math.abs(event.created_at - relay.nowSeconds());
  if (skew > AUTH_WINDOW_SECONDS) return `invalid: created_at is ${skew} s from now, the limit is ${AUTH_WINDOW_SECONDS}`;
  if (!verifyEvent(event)) return 'invalid: the id or signature does not match the event';
  return undefined;
}

/** Handles `["AUTH", event]`, answering OK (a NOTICE when the relay does not do NIP-42). */
export function handleAuth(relay: Relay, conn: Connection, msg: unknown[]): void {
  if (relay.authMode === 'off') return relay.notice(conn, 'invalid: this relay does not support AUTH (NIP-42)');
  const parsed = EventSchema.safeParse(msg[1]);
  if (!parsed.success) {
    const id = (msg[1] as { id?: unknown } | undefined)?.id;
    const reason = `invalid: auth event ${firstIssue(parsed.error)}`;
    if (typeof id === 'string' && /^[0-9a-f]{64}$/.test(id)) conn.ok(id, false, reason);
    else relay.notice(conn, reason);
    return;
  }
  const problem = authProblem(relay, conn, parsed.data);
  if (problem) return conn.ok(parsed.data.id, false, problem);
  if (!conn.authed.has(parsed.data.pubkey) && conn.authed.size >= relay.authKeysPerConnection) {
    // strfry's answer to a second AUTH on one connection: the client needs another connection for that key.
    return conn.ok(parsed.data.id, false, `error: already authenticated; this relay accepts ${relay.authKeysPerConnection} key(s) per connection`);
  }
  conn.authed.add(parsed.data.pubkey);
  relay.logger.log({ level: 'debug', ns: 'relay', msg: 'authenticated', conn: conn.id, pubkey: parsed.data.pubkey });
  conn.ok(parsed.data.id, true, '');
}
