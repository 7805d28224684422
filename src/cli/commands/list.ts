/** `agent list`: every agent in the home with its state. */
import { summarize } from '../agents.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { hasStorage, openHome, openStorage } from '../home-context.js';

export const listCommand: Command = {
  name: 'list',
  summary: 'list the agents and their states',
  usage: 'usage: agent list [--json]',
  async run(argv, ctx) {
    const { values } = parse(argv, {}, false);
    if (values.help) return ctx.stdout.write(`${this.usage}\n`), 0;
    const home = openHome(values.home, ctx.env, values.database);
    if (!hasStorage(home)) {
      ctx.stdout.write(values.json ? '[]\n' : 'no agents yet (create one with `agent create <name>`)\n');
      return 0;
    }
    const storage = await openStorage(home);
    try {
      const now = Date.now();
      const agents = await Promise.all((await storage.agents.list()).map((a) => summarize(storage, a, now)));
      if (values.json) {
        ctx.stdout.write(`${JSON.stringify(agents)}\n`);
        return 0;
      }
      if (agents.length === 0) ctx.stdout.write('no agents yet (create one with `agent create <name>`)\n');
      for (const a of agents) ctx.stdout.write(`${a.name.padEnd(16)} ${a.state.padEnd(10)} ${a.behavior.padEnd(10)} ${a.npub}\n`);
      return 0;
    } finally {
      await storage.close();
    }
  },
};
