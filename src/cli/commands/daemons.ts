/**
 * `agent daemons`: every daemon registered on the home's database, with its heartbeat, the agents
 * it holds and when its first lease runs out. Read straight from the database (no daemon needed),
 * so it shows the daemons of every machine that shares it, and the dead ones until they are pruned.
 */
import { isLive } from '../../cluster/fair-share.js';
import type { DaemonRow } from '../../storage/lease-types.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { openExistingStorage, openHome } from '../home-context.js';

/** What a daemon row says about liveness, as a word. */
export function daemonState(d: DaemonRow, now: number): 'live' | 'stopping' | 'stale' {
  if (d.stopping) return 'stopping';
  return isLive(d, now) ? 'live' : 'stale';
}

function ago(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s ago` : `${Math.round(ms / 1000)} s ago`;
}

export const daemonsCommand: Command = {
  name: 'daemons',
  summary: 'the daemons sharing the database: heartbeats, agents held, lease expiries',
  usage: 'usage: agent daemons [--json]',
  async run(argv, ctx) {
    const { values } = parse(argv, {}, false);
    if (values.help) return ctx.stdout.write(`${this.usage}\n`), 0;
    const home = openHome(values.home, ctx.env);
    const storage = await openExistingStorage(home);
    if (!storage) {
      ctx.stdout.write(values.json ? '{"agents":0,"free":0,"daemons":[]}\n' : 'no daemons (and no agents) yet\n');
      return 0;
    }
    const now = Date.now();
    try {
      const census = await storage.leases.census(now);
      const daemons = census.daemons.map((d) => ({ ...d, state: daemonState(d, now) }));
      if (values.json) {
        ctx.stdout.write(`${JSON.stringify({ agents: census.agents, free: census.free, daemons })}\n`);
        return 0;
      }
      if (daemons.length === 0) ctx.stdout.write('no daemons registered (start one with `agent run`)\n');
      for (const d of daemons) {
        const expiry = d.nextExpiry !== undefined && d.agents > 0 ? `, first lease expires in ${((d.nextExpiry - now) / 1000).toFixed(1)} s` : '';
        const limits = `${d.capacity !== undefined ? `, capacity ${d.capacity}` : ''}${d.shard ? `, shard ${d.shard.index}/${d.shard.of}` : ''}`;
        ctx.stdout.write(`${d.id}  ${d.state.padEnd(8)} ${d.host} pid ${d.pid}  heartbeat ${ago(now - d.heartbeatAt)}  agents ${d.agents}${expiry}${limits}\n`);
      }
      ctx.stdout.write(`${census.agents} agents, ${census.free} without a holder\n`);
      return 0;
    } finally {
      await storage.close();
    }
  },
};
