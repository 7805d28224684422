/**
 * The scrape-time half of the daemon's metrics: gauges (and counters mirrored from totals kept
 * elsewhere, like the receiver's drop counters) set from snapshots the daemon provides when
 * Prometheus asks, so nothing polls between scrapes.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** A value or its promise (storage may answer asynchronously). */
type Awaitable<T> = T | Promise<T>;

/** Budgeted resources as label values. */
export type BudgetResource = 'compute_seconds' | 'llm_calls' | 'tokens' | 'sats' | 'storage_bytes';

/** What the daemon tells the metrics when asked. Agents are named, never keyed by pubkey. */
export interface MetricsSources {
  /** The label for an agent's pubkey (its name when hosted here). */
  agentName(pubkey: string): string;
  now(): number;
  agents(): Awaitable<Array<{ name: string; state: string }>>;
  awake(): number;
  inbox(): Awaitable<Array<{ agent: string; pending: number; oldestCreatedAt: number }>>;
  outbox(): Awaitable<Array<{ agent: string; status: 'pending' | 'failed'; count: number }>>;
  budgets(): Awaitable<Array<{ agent: string; resource: BudgetResource; used: number; limit?: number }>>;
  /** Relay connections; `breaker` when the pool reports one (`closed`, `open`, `half-open`). */
  relays(): Array<{ url: string; state: string; attempts: number; breaker?: string }>;
  /** Inbound events dropped and never acted on, by reason (forged wraps, bad signatures…). */
  dropped(): Record<string, number>;
}

/** The gauges of one registry. */
export type Gauges = ReturnType<typeof snapshotGauges>;

/** Creates the scrape-time gauges on `registers`. */
export function snapshotGauges(registers: Registry[]) {
  return {
    agents: new Gauge({ name: 'agent_agents', help: 'Agents by lifecycle state.', labelNames: ['state'], registers }),
    awake: new Gauge({ name: 'agent_awake_agents', help: 'Agents in memory (the rest hibernate in the database).', registers }),
    inboxPending: new Gauge({ name: 'agent_inbox_pending', help: 'Triggers waiting in the inbox.', labelNames: ['agent'], registers }),
    inboxAge: new Gauge({ name: 'agent_inbox_oldest_pending_age_seconds', help: 'Age of the oldest waiting trigger.', labelNames: ['agent'], registers }),
    outbox: new Gauge({ name: 'agent_outbox_rows', help: 'Outbox rows not delivered, by status (pending, failed).', labelNames: ['agent', 'status'], registers }),
    budgetUsed: new Gauge({ name: 'agent_budget_used', help: "Today's use of a budgeted resource (UTC day; storage is the current total).", labelNames: ['agent', 'resource'], registers }),
    budgetLimit: new Gauge({ name: 'agent_budget_limit', help: 'The limit of a budgeted resource (absent when unlimited).', labelNames: ['agent', 'resource'], registers }),
    relayUp: new Gauge({ name: 'agent_relay_connected', help: '1 while the relay socket is open.', labelNames: ['relay'], registers }),
    relayAttempts: new Gauge({ name: 'agent_relay_connect_failures', help: 'Consecutive failed connection attempts.', labelNames: ['relay'], registers }),
    breaker: new Gauge({ name: 'agent_relay_breaker_open', help: '1 while the relay circuit breaker is open (0.5 half-open).', labelNames: ['relay'], registers }),
    dropped: new Counter({ name: 'agent_inbound_dropped_total', help: 'Inbound events dropped, never acted on (forged or misaddressed wraps, bad signatures…), by reason.', labelNames: ['reason'], registers }),
  };
}

/** Sets every gauge from the sources (each gauge reset first, so vanished agents and relays disappear). */
export async function refreshGauges(g: Gauges, s: MetricsSources): Promise<void> {
  const now = s.now();
  const [agents, inbox, outbox, budgets] = await Promise.all([s.agents(), s.inbox(), s.outbox(), s.budgets()]);
  for (const gauge of [g.agents, g.inboxPending, g.inboxAge, g.outbox, g.budgetUsed, g.budgetLimit, g.relayUp, g.relayAttempts, g.breaker]) gauge.reset();
  const states = new Map<string, number>();
  for (const a of agents) states.set(a.state, (states.get(a.state) ?? 0) + 1);
  for (const [state, n] of states) g.agents.set({ state }, n);
  g.awake.set(s.awake());
  for (const row of inbox) {
    g.inboxPending.set({ agent: row.agent }, row.pending);
    g.inboxAge.set({ agent: row.agent }, Math.max(0, now - row.oldestCreatedAt) / 1000);
  }
  for (const row of outbox) g.outbox.set({ agent: row.agent, status: row.status }, row.count);
  for (const b of budgets) {
    g.budgetUsed.set({ agent: b.agent, resource: b.resource }, b.used);
    if (b.limit !== undefined) g.budgetLimit.set({ agent: b.agent, resource: b.resource }, b.limit);
  }
  for (const r of s.relays()) {
    g.relayUp.set({ relay: r.url }, r.state === 'connected' ? 1 : 0);
    g.relayAttempts.set({ relay: r.url }, r.attempts);
    if (r.breaker !== undefined) g.breaker.set({ relay: r.url }, r.breaker === 'open' ? 1 : r.breaker === 'half-open' ? 0.5 : 0);
  }
  // Totals kept by the receiver and the pool; mirrored as counters (they only grow).
  g.dropped.reset();
  for (const [reason, n] of Object.entries(s.dropped())) g.dropped.inc({ reason }, n);
}
