/**
 * The daemon's Prometheus metrics. One registry, fed two ways: counters and histograms observe what
 * already happens (runtime events, outbox reports, messages handed to the runtime, LLM calls), and
 * gauges are read at scrape time from a few cheap snapshots (storage counts, the pool's status, the
 * receiver's drop counters). Label values are bounded: agent names, trigger types, outcomes, relay
 * URLs the daemon was configured with, never senders or event ids. A series per agent only where an
 * agent's own activity moves it (ticks, DMs in, LLM calls), not for what every dormant agent does at
 * a start (profiles, snapshots): a daemon hosts 10,000 agents.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RuntimeEvent } from '../runtime/events.js';
import type { OutboxReport } from '../relay/types.js';
import { refreshGauges, snapshotGauges, type MetricsSources } from './metrics-gauges.js';

export type { MetricsSources } from './metrics-gauges.js';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const DELIVERY_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600];

/** An event kind as a bounded label. */
export function kindLabel(kind: number): string {
  if (kind === 1059) return 'nip17';
  if (kind === 4) return 'nip04';
  if (kind === 1) return 'note';
  if (kind === 9230 || kind === 39230) return 'trajectory';
  if (kind === 0 || kind === 10002 || kind === 10050 || kind === 14199) return 'profile';
  return 'other';
}

/** A refusal reason as a bounded label: its prefix (`policy`, `rate-limited`, `budget exhausted`…). */
export function reasonLabel(reason: string): string {
  const head = reason.split(':')[0]!.trim().toLowerCase().replace(/[^a-z0-9 _-]/g, '');
  return head.slice(0, 32) || 'other';
}

/** What a webhook request ended as, for `agent_webhook_requests_total`. */
export type WebhookOutcome = 'accepted' | 'replay' | 'bad-signature' | 'too-large' | 'bad-json' | 'unknown-hook' | 'rate-limited' | 'error' | 'bad-request';

/** The daemon's metrics; `text()` is the /metrics body. */
export class DaemonMetrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  readonly #sources: MetricsSources;
  readonly #c;
  readonly #g;

  constructor(sources: MetricsSources, options: { processMetrics?: boolean } = {}) {
    this.#sources = sources;
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.#c = {
      ticks: new Counter({ name: 'agent_ticks_total', help: 'Finished ticks by agent, trigger type and outcome (ok, error, aborted, refused).', labelNames: ['agent', 'trigger', 'outcome'], registers }),
      tickSeconds: new Histogram({ name: 'agent_tick_duration_seconds', help: 'Wall time of finished ticks.', labelNames: ['agent', 'trigger'], buckets: SECONDS, registers }),
      retries: new Counter({ name: 'agent_tick_retries_total', help: 'Ticks that failed and will be retried.', labelNames: ['agent'], registers }),
      refused: new Counter({ name: 'agent_triggers_refused_total', help: 'Triggers refused (policy, rate limit, budget), by reason prefix.', labelNames: ['agent', 'reason'], registers }),
      alarms: new Counter({ name: 'agent_alarms_fired_total', help: 'Alarms fired into the inbox.', labelNames: ['agent'], registers }),
      states: new Counter({ name: 'agent_state_changes_total', help: 'Lifecycle transitions by target state.', labelNames: ['agent', 'to'], registers }),
      received: new Counter({ name: 'agent_messages_received_total', help: 'Messages handed to the runtime by kind (nip17, nip04 DMs; mention).', labelNames: ['agent', 'kind'], registers }),
      // By kind only: every agent publishes profiles and recovery snapshots at each start, so a label per
      // agent made two series per agent (10,000 agents: 20,000 series, ~0.2 KiB of heap each) that say
      // nothing an operator acts on; a stuck agent shows in agent_outbox_rows and agent_outbox_gave_up_total.
      delivered: new Counter({ name: 'agent_outbox_delivered_total', help: 'Outgoing events a relay accepted, by kind (nip17 and nip04 are DMs out).', labelNames: ['kind'], registers }),
      gaveUp: new Counter({ name: 'agent_outbox_gave_up_total', help: 'Outgoing events no relay accepted before their deadline (or every relay refused).', labelNames: ['agent', 'kind'], registers }),
      attempts: new Counter({ name: 'agent_outbox_attempts_total', help: 'Publish attempts by result (delivered, retry, failed).', labelNames: ['result'], registers }),
      deliverySeconds: new Histogram({ name: 'agent_outbox_delivery_seconds', help: 'Time from an event entering the outbox to a relay accepting it.', labelNames: ['kind'], buckets: DELIVERY_SECONDS, registers }),
      llmCalls: new Counter({ name: 'agent_llm_calls_total', help: 'LLM calls by outcome (ok, error, aborted).', labelNames: ['agent', 'outcome'], registers }),
      llmTokens: new Counter({ name: 'agent_llm_tokens_total', help: 'LLM tokens by direction (input, output).', labelNames: ['agent', 'direction'], registers }),
      llmSeconds: new Histogram({ name: 'agent_llm_call_duration_seconds', help: 'Duration of LLM calls.', labelNames: ['agent'], buckets: SECONDS, registers }),
      watchEvents: new Counter({ name: 'agent_watch_events_total', help: 'Events matching a watch, by outcome (queued, duplicate, rate-limited).', labelNames: ['agent', 'outcome'], registers }),
      webhooks: new Counter({ name: 'agent_webhook_requests_total', help: 'Webhook requests by outcome; agent is "-" when the URL names no known hook.', labelNames: ['agent', 'outcome'], registers }),
    };
    this.#g = snapshotGauges(registers);
  }

  /** Feeds a runtime event (subscribe this to `runtime.events`). */
  observe(event: RuntimeEvent): void {
    const agent = this.#sources.agentName(event.agent);
    switch (event.type) {
      case 'tick.finished': {
        const trigger = event.record.trigger.type;
        this.#c.ticks.inc({ agent, trigger, outcome: event.record.outcome });
        this.#c.tickSeconds.observe({ agent, trigger }, Math.max(0, event.record.endedAt - event.record.startedAt) / 1000);
        return;
      }
      case 'tick.retry':
        return void this.#c.retries.inc({ agent });
      case 'inbound.refused':
        return void this.#c.refused.inc({ agent, reason: reasonLabel(event.reason) });
      case 'alarm.fired':
        return void this.#c.alarms.inc({ agent });
      case 'agent.state':
        return void this.#c.states.inc({ agent, to: event.to });
      default:
        return;
    }
  }

  /** Feeds an outbox publisher report. */
  outbox(report: OutboxReport, now: number): void {
    const agent = this.#sources.agentName(report.agentPubkey);
    const kind = kindLabel(report.kind);
    this.#c.attempts.inc({ result: report.type });
    if (report.type === 'delivered') {
      this.#c.delivered.inc({ kind });
      this.#c.deliverySeconds.observe({ kind }, Math.max(0, now - report.createdAt) / 1000);
    } else if (report.type === 'failed') this.#c.gaveUp.inc({ agent, kind });
  }

  /** A message the receiver handed to the runtime (after it was recorded). */
  received(agentPubkey: string, kind: 'nip17' | 'nip04' | 'mention'): void {
    this.#c.received.inc({ agent: this.#sources.agentName(agentPubkey), kind });
  }

  /** One LLM call of an agent. */
  llmCall(agent: string, call: { ms: number; outcome: string; inputTokens: number; outputTokens: number }): void {
    this.#c.llmCalls.inc({ agent, outcome: call.outcome });
    this.#c.llmSeconds.observe({ agent }, call.ms / 1000);
    if (call.inputTokens > 0) this.#c.llmTokens.inc({ agent, direction: 'input' }, call.inputTokens);
    if (call.outputTokens > 0) this.#c.llmTokens.inc({ agent, direction: 'output' }, call.outputTokens);
  }

  /** An event that matched a watch of `agent` (by name). */
  watchEvent(agent: string, outcome: 'queued' | 'duplicate' | 'rate-limited'): void {
    this.#c.watchEvents.inc({ agent, outcome });
  }

  /** A webhook request; `agent` only when the URL named a known hook. */
  webhook(agent: string | undefined, outcome: WebhookOutcome): void {
    this.#c.webhooks.inc({ agent: agent ?? '-', outcome });
  }

  /** The Prometheus text: gauges refreshed from the sources first. */
  async text(): Promise<string> {
    await refreshGauges(this.#g, this.#sources);
    return this.registry.metrics();
  }
}
