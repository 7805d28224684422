/** `agent hook <name> add|list|rm`: signed webhooks that wake an agent (through the daemon when it runs). */
import type { HookCreated, HookSummary } from '../../control/trigger-routes.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { openHome, type HomeContext } from '../home-context.js';
import { addHook, hookPath, listHooks, removeHook } from '../trigger-admin.js';
import { throughDaemonOrStorage } from '../trigger-cli.js';

const USAGE = `usage: agent hook <name> add <hook> [--prompt "…"] [--json]
       agent hook <name> list [--json]
       agent hook <name> rm <hook> [--json]

  \`add\` prints the hook's URL and its secret (shown this once; kept in the home database, mode 600).
  POST a JSON body there with X-Signature-256: sha256=<hex HMAC-SHA256 of the body, keyed with the
  secret> and a unique X-Delivery-Id; the daemon listens for webhooks only with --hooks-port.`;

/** Where the home's config says webhooks are received, when it says. */
function configuredUrl(home: HomeContext, path: string): string | undefined {
  const at = home.config.hooks;
  if (!at || at.port === 0) return undefined;
  return `http://${at.host === '0.0.0.0' ? '127.0.0.1' : at.host}:${at.port}${path}`;
}

export const hookCommand: Command = {
  name: 'hook',
  summary: 'add, list or remove the signed webhooks that wake an agent (event triggers)',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parse(argv, { prompt: { type: 'string' } });
    if (values.help) return ctx.stdout.write(`${USAGE}\n`), 0;
    const [name, verb, arg, ...extra] = positionals;
    if (!name || !verb || extra.length > 0) throw new UsageError(USAGE);
    const home = openHome(values.home, ctx.env, values.database);
    const out = (value: unknown, text: string): number => (ctx.stdout.write(`${values.json ? JSON.stringify(value) : text}\n`), 0);
    if (verb === 'add') {
      if (arg === undefined) throw new UsageError(USAGE);
      const input = { name: arg, ...(values.prompt !== undefined ? { prompt: values.prompt } : {}) };
      const created: HookCreated = await throughDaemonOrStorage(home, {
        daemon: (client) => client.addHook(name, input),
        storage: async (storage) => {
          const hook = await addHook(storage, name, input, Date.now());
          const path = hookPath(name, hook.name);
          const url = configuredUrl(home, path);
          return { ...hook, path, ...(url ? { url } : {}) };
        },
      });
      const where = created.url ?? `${created.path} on the daemon's webhook listener (start it with \`agent run --hooks-port P\`)`;
      return out(created, [`${name}: webhook "${created.name}"`, `  url     ${where}`, `  secret  ${created.secret}`, '  (the secret is shown once; keep it where the sender signs)'].join('\n'));
    }
    if (verb === 'list') {
      if (arg !== undefined) throw new UsageError(USAGE);
      const hooks: HookSummary[] = await throughDaemonOrStorage(home, { daemon: (c) => c.hooks(name), storage: (s) => listHooks(s, name) });
      return out(hooks, hooks.length ? hooks.map((h) => `${h.name}  ${hookPath(name, h.name)}${h.prompt ? `  (prompt "${h.prompt}")` : ''}`).join('\n') : `${name} has no webhooks (add one with \`agent hook ${name} add <hook>\`)`);
    }
    if (verb === 'rm') {
      if (arg === undefined) throw new UsageError(USAGE);
      const hook = await throughDaemonOrStorage(home, { daemon: (c) => c.removeHook(name, arg), storage: (s) => removeHook(s, name, arg, Date.now()) });
      return out(hook, `${name}: webhook "${hook.name}" removed (its URL answers 404 from now on)`);
    }
    throw new UsageError(USAGE);
  },
};
