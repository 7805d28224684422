/** `agent status [<name>]`: state, last tick, ticks, failures, budget use, relays (from the daemon when it runs). */
import { connectControl } from '../../control/client.js';
import type { ReadinessReport } from '../../control/health.js';
import type { AgentSummary, RelaySummary } from '../../control/types.js';
import { leaseHolders, summarize } from '../agents.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { hasStorage, openHome, openStorage } from '../home-context.js';

function when(ms: number | undefined): string {
  return ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : 'never';
}

/** One line for a relay whose breaker is not closed: skipped by publishes and short REQs until its retry. */
function breakerLine(r: RelaySummary): string {
  const b = r.breaker!;
  const retry = b.state === 'open' && b.retryAt ? `, next try in ${Math.max(0, Math.ceil((b.retryAt - Date.now()) / 1000))} s` : ', trying again';
  return `breaker ${b.state}: ${r.url} (${b.consecutiveFailures} failures in a row, health ${b.score.toFixed(2)}${retry}; last: ${b.lastFailure ?? 'unknown'})`;
}

function describe(a: AgentSummary, relays: RelaySummary[] | undefined): string {
  const b = a.budget;
  const lines = [
    `${a.name} (agent ${a.index}, ${a.behavior}): ${a.state}`,
    `  npub       ${a.npub}`,
    `  last tick  ${when(a.lastTickAt)}   ticks ${a.ticks}   failures ${a.failures} (${a.consecutiveFailures} in a row)`,
  ];
  if (a.lastError) lines.push(`  last error ${a.lastError}`);
  const h = a.holder;
  lines.push(h ? `  held by    ${h.daemonId}${h.host ? ` on ${h.host} pid ${h.pid}` : ''} (epoch ${h.epoch}, lease for ${Math.max(0, (h.expiresAt - Date.now()) / 1000).toFixed(1)} s more)` : '  held by    no daemon (a daemon claims it on its next pass)');
  if (b) lines.push(`  today      compute ${(b.computeMs / 1000).toFixed(1)} s   llm calls ${b.llmCalls}   tokens ${b.tokens}   sats ${b.sats}   storage ${a.storageBytes} B`);
  const states = a.relays.map((url) => {
    const r = relays?.find((x) => x.url === url);
    const breaker = r?.breaker && r.breaker.state !== 'closed' ? `, breaker ${r.breaker.state}` : '';
    return `${url} (${r?.state ?? 'daemon not running'}${breaker})`;
  });
  lines.push(`  relays     ${states.join(', ')}`);
  return lines.join('\n');
}

/** The readiness checks, one line each (the same as `GET /readyz`). */
function describeReadiness(r: ReadinessReport): string {
  const line = (name: string, c: { ok: boolean; detail: string }): string => `  ${c.ok ? 'ok  ' : 'FAIL'} ${name.padEnd(9)} ${c.detail}`;
  return [`ready: ${r.ready ? 'yes' : 'no'}`, line('database', r.checks.database), line('relays', r.checks.relays), line('wake loop', r.checks.wakeLoop)].join('\n');
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'state, last tick, failures, budget use and relays of the agents',
  usage: 'usage: agent status [<name>] [--json]',
  async run(argv, ctx) {
    const { values, positionals } = parse(argv, {});
    if (values.help) return ctx.stdout.write(`${this.usage}\n`), 0;
    if (positionals.length > 1) throw new UsageError(this.usage);
    const home = openHome(values.home, ctx.env, values.database);
    const client = await connectControl(home.home);
    let agents: AgentSummary[];
    let relays: RelaySummary[] | undefined;
    let ready: ReadinessReport | undefined;
    if (client) {
      const [overview, report] = await Promise.all([client.overview(), client.readiness()]);
      agents = overview.agents;
      relays = overview.relays;
      ready = report;
    } else if (hasStorage(home)) {
      const storage = await openStorage(home);
      try {
        const holders = await leaseHolders(storage, Date.now());
        agents = await Promise.all((await storage.agents.list()).map((a) => summarize(storage, a, Date.now(), holders)));
      } finally {
        await storage.close();
      }
    } else agents = [];
    const name = positionals[0];
    if (name !== undefined) {
      agents = agents.filter((a) => a.name === name);
      if (agents.length === 0) throw new CliError(`no agent named "${name}"`, 2, { code: 'AGENT_NOT_FOUND' });
    }
    if (values.json) {
      const payload = { daemon: client ? 'running' : 'stopped', ...(ready ? { ready: ready.ready, checks: ready.checks } : {}), relays: relays ?? [], agents };
      ctx.stdout.write(`${JSON.stringify(name !== undefined ? { ...payload, agent: agents[0] } : payload)}\n`);
      return 0;
    }
    ctx.stdout.write(`daemon: ${client ? 'running' : 'not running (start it with `agent up` or `agent run`)'}\n`);
    if (ready) ctx.stdout.write(`${describeReadiness(ready)}\n`);
    for (const r of relays ?? []) if (r.breaker && r.breaker.state !== 'closed') ctx.stdout.write(`${breakerLine(r)}\n`);
    for (const a of agents) ctx.stdout.write(`${describe(a, relays)}\n`);
    if (agents.length === 0) ctx.stdout.write('no agents yet (create one with `agent create <name>`)\n');
    return 0;
  },
};
