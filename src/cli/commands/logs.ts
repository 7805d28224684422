/** `agent logs [<name>]`: the latest ticks as log lines, and with --follow the daemon's events as they happen. */
import { connectControl } from '../../control/client.js';
import type { RuntimeEvent } from '../../runtime/events.js';
import type { TickRecord } from '../../trajectory/types.js';
import { parse, parseIndex } from '../args.js';
import type { Command } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { hasStorage, openHome, openStorage } from '../home-context.js';
import { tickLogLine } from '../tick-log.js';

const USAGE = 'usage: agent logs [<name>] [--limit N] [--follow] [--json]';

function line(agent: string, record: TickRecord, json: boolean): string {
  const log = tickLogLine(agent, record);
  if (json) return JSON.stringify({ time: new Date(record.endedAt).toISOString(), agent, ...log });
  const extra = Object.entries(log)
    .filter(([k]) => !['level', 'ns', 'msg', 'agent', 'seq', 'trigger', 'outcome'].includes(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${new Date(record.endedAt).toISOString()} ${log.level.padEnd(5)} ${log.msg}${extra ? ` ${extra}` : ''}`;
}

export const logsCommand: Command = {
  name: 'logs',
  summary: 'recent ticks as log lines; --follow streams them from the daemon',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parse(argv, { limit: { type: 'string' }, follow: { type: 'boolean', short: 'f' } });
    if (values.help) return ctx.stdout.write(`${USAGE}\n`), 0;
    if (positionals.length > 1) throw new UsageError(USAGE);
    const limit = values.limit === undefined ? 20 : parseIndex(values.limit, '--limit');
    const home = openHome(values.home, ctx.env, values.database);
    const name = positionals[0];
    const names = new Map<string, string>();
    if (hasStorage(home)) {
      const storage = await openStorage(home);
      try {
        const agents = await storage.agents.list();
        for (const a of agents) names.set(a.pubkey, a.name);
        const chosen = name === undefined ? agents : agents.filter((a) => a.name === name);
        if (name !== undefined && chosen.length === 0) throw new CliError(`no agent named "${name}"`, 2, { code: 'AGENT_NOT_FOUND' });
        const ticks = (await Promise.all(chosen.map(async (a) => (await storage.ticks.list(a.index, { limit })).map((t) => ({ agent: a.name, t }))))).flat();
        ticks.sort((x, y) => x.t.endedAt - y.t.endedAt);
        for (const { agent, t } of ticks.slice(-limit)) ctx.stdout.write(`${line(agent, t, values.json ?? false)}\n`);
      } finally {
        await storage.close();
      }
    } else if (name !== undefined) throw new CliError(`no agent named "${name}"`, 2, { code: 'AGENT_NOT_FOUND' });
    if (!values.follow) return 0;
    const client = await connectControl(home.home);
    if (!client) throw new CliError('the daemon is not running: start it with `agent up` or `agent run`', 1);
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    try {
      for await (const event of client.events({ signal: stop.signal }) as AsyncIterable<RuntimeEvent>) {
        const agent = names.get(event.agent) ?? event.agent.slice(0, 12);
        if (name !== undefined && agent !== name) continue;
        if (event.type === 'tick.finished') ctx.stdout.write(`${line(agent, event.record, values.json ?? false)}\n`);
        else if (event.type === 'agent.state') ctx.stdout.write(`${new Date(event.at).toISOString()} info  ${agent} ${event.from} → ${event.to}${event.reason ? ` (${event.reason})` : ''}\n`);
      }
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    }
    return 0;
  },
};
