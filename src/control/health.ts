/**
 * Health and readiness: what `/healthz`, `/readyz` and `agent status` report. `/healthz` says the
 * process answers; `/readyz` says the daemon can do its job: the database answers, every hosted agent
 * has at least one of its relays connected, and the wake loop (alarms, retries, hibernation) has run
 * a pass recently. The checks are computed from plain inputs, so they are the same wherever shown.
 */

/** One named check. `detail` is a sentence for people; the other fields are for scripts. */
export interface HealthCheck {
  ok: boolean;
  detail: string;
}

/** `GET /healthz`: the process is alive. */
export interface HealthReport {
  ok: true;
  pid: number;
  uptimeSeconds: number;
}

/** One agent's relays as the readiness check sees them. */
export interface AgentRelayCheck {
  agent: string;
  relays: string[];
  connected: string[];
}

/** `GET /readyz`: 200 when `ready`, else 503, with every check either way. */
export interface ReadinessReport {
  ready: boolean;
  checks: {
    database: HealthCheck;
    relays: HealthCheck & { agents: AgentRelayCheck[] };
    wakeLoop: HealthCheck & { lastPassAt?: number };
  };
}

/** What readiness is computed from. */
export interface ReadinessInputs {
  now: number;
  /** The database answered a query (or the error it threw). */
  database: { ok: true } | { ok: false; error: string };
  /** Hosted agents with their relays and the relays' states. */
  agents: Array<{ name: string; relays: string[] }>;
  relayStates: ReadonlyMap<string, string>;
  wakeLoop: { running: boolean; lastPassAt?: number };
  /** A pass older than this is a stuck loop (ms). */
  wakeLoopStaleMs: number;
}

/** Computes the readiness report. */
export function readiness(i: ReadinessInputs): ReadinessReport {
  const database: HealthCheck = i.database.ok ? { ok: true, detail: 'the database answers' } : { ok: false, detail: `the database does not answer: ${i.database.error}` };
  const agents = i.agents.map((a) => ({ agent: a.name, relays: a.relays, connected: a.relays.filter((url) => i.relayStates.get(url) === 'connected') }));
  const cut = agents.filter((a) => a.connected.length === 0);
  const relays = {
    ok: cut.length === 0,
    detail: cut.length === 0 ? `${agents.length} agent${agents.length === 1 ? '' : 's'} with a connected relay` : `no relay connected for ${cut.map((a) => a.agent).join(', ')}`,
    agents,
  };
  const last = i.wakeLoop.lastPassAt;
  const fresh = i.wakeLoop.running && last !== undefined && i.now - last <= i.wakeLoopStaleMs;
  const wakeLoop = {
    ok: fresh,
    detail: !i.wakeLoop.running ? 'the wake loop is not running' : last === undefined ? 'the wake loop has not run yet' : fresh ? `last pass ${Math.round((i.now - last) / 1000)} s ago` : `no pass for ${Math.round((i.now - last) / 1000)} s`,
    ...(last !== undefined ? { lastPassAt: last } : {}),
  };
  return { ready: database.ok && relays.ok && wakeLoop.ok, checks: { database, relays, wakeLoop } };
}
