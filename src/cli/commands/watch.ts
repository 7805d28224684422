/** `agent watch <name> add|list|rm`: the agent's watched Nostr filters (through the daemon when it runs). */
import type { WatchInput } from '../../control/trigger-routes.js';
import type { Watch } from '../../runtime/watch.js';
import { parse, parsePositive } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { openHome } from '../home-context.js';
import { addWatch, listWatches, removeWatch } from '../trigger-admin.js';
import { throughDaemonOrStorage } from '../trigger-cli.js';

const USAGE = `usage: agent watch <name> add --filter '<NIP-01 filter JSON>' [--relay URL …] [--prompt "…"] [--id ID] [--per-minute N] [--json]
       agent watch <name> list [--json]
       agent watch <name> rm <id> [--json]

  A matching event becomes one \`event\` trigger (deduplicated by id; at most --per-minute a minute,
  30 by default). The filter must name "ids", "authors" or a tag such as "#t"; "since", "until" and
  "limit" are the daemon's (its cursor). Without --relay the agent's own relays are watched.`;

function describe(w: Watch): string {
  const extra = [w.relays?.length ? `relays ${w.relays.join(' ')}` : undefined, w.rate ? `${w.rate.capacity}/min` : undefined, w.prompt ? `prompt "${w.prompt}"` : undefined].filter(Boolean);
  return `${w.id}  ${JSON.stringify(w.filter)}${extra.length ? `  (${extra.join(', ')})` : ''}`;
}

export const watchCommand: Command = {
  name: 'watch',
  summary: 'add, list or remove the Nostr filters an agent watches (event triggers)',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parse(argv, {
      filter: { type: 'string' },
      relay: { type: 'string', multiple: true },
      prompt: { type: 'string' },
      id: { type: 'string' },
      'per-minute': { type: 'string' },
    });
    if (values.help) return ctx.stdout.write(`${USAGE}\n`), 0;
    const [name, verb, arg, ...extra] = positionals;
    if (!name || !verb || extra.length > 0) throw new UsageError(USAGE);
    const home = openHome(values.home, ctx.env, values.database);
    const out = (value: unknown, text: string): number => (ctx.stdout.write(`${values.json ? JSON.stringify(value) : text}\n`), 0);
    if (verb === 'add') {
      if (arg !== undefined) throw new UsageError(USAGE);
      if (values.filter === undefined) throw new UsageError('agent watch add needs --filter \'<NIP-01 filter JSON>\', e.g. --filter \'{"kinds":[1],"#t":["deploy"]}\'');
      let filter: unknown;
      try {
        filter = JSON.parse(values.filter);
      } catch {
        throw new UsageError(`--filter is not JSON: ${values.filter.slice(0, 80)}`);
      }
      const input: WatchInput = {
        filter,
        ...(values.relay ? { relays: values.relay } : {}),
        ...(values.prompt !== undefined ? { prompt: values.prompt } : {}),
        ...(values.id !== undefined ? { id: values.id } : {}),
        ...(values['per-minute'] !== undefined ? { perMinute: Math.round(parsePositive(values['per-minute'], '--per-minute')) } : {}),
      };
      const watch = await throughDaemonOrStorage(home, {
        daemon: (client) => client.addWatch(name, input),
        storage: (storage) => addWatch(storage, name, input, Date.now()),
      });
      return out(watch, `${name}: watching ${describe(watch)}`);
    }
    if (verb === 'list') {
      if (arg !== undefined) throw new UsageError(USAGE);
      const watches = await throughDaemonOrStorage(home, { daemon: (c) => c.watches(name), storage: (s) => listWatches(s, name) });
      return out(watches, watches.length ? watches.map(describe).join('\n') : `${name} watches nothing (add one with \`agent watch ${name} add --filter …\`)`);
    }
    if (verb === 'rm') {
      if (arg === undefined) throw new UsageError(USAGE);
      const watch = await throughDaemonOrStorage(home, { daemon: (c) => c.removeWatch(name, arg), storage: (s) => removeWatch(s, name, arg, Date.now()) });
      return out(watch, `${name}: no longer watching ${watch.id}`);
    }
    throw new UsageError(USAGE);
  },
};
