/**
 * relay-dev's Prometheus metrics (GET /metrics on the relay's own HTTP port when `metrics` is on):
 * every EVENT answer by result (stored, duplicate, or refused with its NIP-01 prefix as the reason),
 * REQ latency (from the REQ to its EOSE), refused subscriptions by reason, and connection and
 * subscription counts read at scrape time. Labels are the fixed NIP-01 prefixes, never ids or keys.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { rejectionPrefix } from '../src/protocol/schema.js';
import type { Relay } from './relay.js';

const REQ_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** The reason label of a refusal: its machine-readable prefix, or `other`. */
function reasonOf(message: string): string {
  return rejectionPrefix(message) ?? 'other';
}

/** Metrics of one relay, fed by its `onOk`, `onClosed` and `onReqServed` hooks. */
export class RelayMetrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;

  constructor(relay: Relay, options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const events = new Counter({ name: 'relay_events_total', help: 'EVENT answers by result: stored (accepted), duplicate, refused.', labelNames: ['result'], registers });
    const refused = new Counter({ name: 'relay_events_refused_total', help: 'Refused EVENTs by NIP-01 prefix (invalid, blocked, rate-limited, auth-required, restricted, error…).', labelNames: ['reason'], registers });
    const reqSeconds = new Histogram({ name: 'relay_req_duration_seconds', help: 'Time from a REQ to its EOSE (stored events queried and sent).', buckets: REQ_SECONDS, registers });
    const reqEvents = new Counter({ name: 'relay_req_events_total', help: 'Stored events sent in answer to REQs.', registers });
    const closed = new Counter({ name: 'relay_subscriptions_refused_total', help: 'REQ/COUNT subscriptions closed by the relay, by prefix.', labelNames: ['reason'], registers });
    new Gauge({
      name: 'relay_connections',
      help: 'Open client connections.',
      registers,
      collect() {
        this.set(relay.connections.size);
      },
    });
    new Gauge({
      name: 'relay_subscriptions',
      help: 'Open subscriptions over all connections.',
      registers,
      collect() {
        let n = 0;
        for (const conn of relay.connections) n += conn.subs.size;
        this.set(n);
      },
    });
    relay.onOk.push((accepted, message) => {
      if (!accepted) {
        events.inc({ result: 'refused' });
        refused.inc({ reason: reasonOf(message) });
      } else events.inc({ result: message.startsWith('duplicate:') ? 'duplicate' : 'stored' });
    });
    relay.onClosed.push((message) => closed.inc({ reason: reasonOf(message) }));
    relay.onReqServed.push((ms, sent) => {
      reqSeconds.observe(ms / 1000);
      reqEvents.inc(sent);
    });
  }

  /** The Prometheus text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
