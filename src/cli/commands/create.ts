/** `agent create <name>`: a new agent at the next NIP-06 account, through the daemon when it runs. */
import { connectControl } from '../../control/client.js';
import { loadFastCrypto } from '../../protocol/crypto.js';
import { createAgentRecord, summarize } from '../agents.js';
import { parse } from '../args.js';
import { isModuleBehavior, resolveModuleBehavior } from '../behavior-modules.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { defaultRelays, openHome, openStorage } from '../home-context.js';
import { loadSeed } from '../keys-source.js';
import { parseMcpSpec } from '../mcp-spec.js';

const USAGE = [
  'usage: agent create <name> [--behavior echo|assistant|llm|./module.js] [--relay URL …] [--policy open|allowlist|owner-only] [--json]',
  '         [--model M] [--base-url URL] [--system "…"] [--tools remember,recall,…] [--allow-host HOST …] [--allow-dm NPUB|NAME …]',
  '         [--max-tick-seconds S] [--daily-llm-calls N] [--daily-tokens N] [--mcp \'name=command args…\' | --mcp name=https://… …]',
  '         [--autonomy supervised|bounded|autonomous] [--approval TOOL=always|over-budget|never …] [--daily-actions N] [--approval-timeout S]',
].join('\n');

/** The agent config a create's flags ask for (only what was given). */
export function configFromFlags(values: Record<string, string | string[] | boolean | undefined>): Record<string, unknown> | undefined {
  const config: Record<string, unknown> = {};
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const list = (k: string): string[] => {
    const v = values[k];
    const items = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
    return items.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
  };
  const llm: Record<string, unknown> = {};
  if (str('model') !== undefined) llm.model = str('model');
  if (str('base-url') !== undefined) llm.baseUrl = str('base-url');
  if (str('system') !== undefined) llm.system = str('system');
  if (Object.keys(llm).length > 0) config.llm = llm;
  if (values.tools !== undefined) config.tools = list('tools');
  if (values['allow-host'] !== undefined) config.http = { allow: list('allow-host') };
  if (values['allow-dm'] !== undefined) config.dm = { allow: list('allow-dm') };
  const mcp = values.mcp;
  if (mcp !== undefined) {
    const servers: Record<string, unknown> = {};
    for (const spec of Array.isArray(mcp) ? mcp : [mcp]) {
      if (typeof spec !== 'string') continue;
      const { name, config: server } = parseMcpSpec(spec);
      if (name in servers) throw new UsageError(`--mcp names server "${name}" twice`);
      servers[name] = server;
    }
    config.mcp = servers;
  }
  const budget: Record<string, number> = {};
  const num = (flag: string, key: string, scale = 1): void => {
    const raw = str(flag);
    if (raw === undefined) return;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} must be a positive number, got "${raw}"`);
    budget[key] = Math.round(n * scale);
  };
  num('max-tick-seconds', 'maxTickMs', 1000);
  num('daily-llm-calls', 'dailyLlmCalls');
  num('daily-tokens', 'dailyTokens');
  if (Object.keys(budget).length > 0) config.budget = budget;
  const autonomy: Record<string, unknown> = {};
  if (str('autonomy') !== undefined) autonomy.level = str('autonomy');
  const approval: Record<string, string> = {};
  for (const item of list('approval')) {
    const eq = item.lastIndexOf('=');
    if (eq <= 0) throw new UsageError(`--approval takes TOOL=always|over-budget|never, got "${item}"`);
    approval[item.slice(0, eq)] = item.slice(eq + 1);
  }
  if (Object.keys(approval).length > 0) autonomy.approval = approval;
  const count = (flag: string, key: string, scale = 1): void => {
    const raw = str(flag);
    if (raw === undefined) return;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${flag} must be a number, got "${raw}"`);
    autonomy[key] = Math.round(n * scale);
  };
  count('daily-actions', 'dailyActions');
  count('approval-timeout', 'timeoutSeconds');
  if (Object.keys(autonomy).length > 0) config.autonomy = autonomy;
  return Object.keys(config).length > 0 ? config : undefined;
}

export const createCommand: Command = {
  name: 'create',
  summary: 'create an agent (next NIP-06 account)',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parse(argv, {
      behavior: { type: 'string' },
      relay: { type: 'string', multiple: true },
      policy: { type: 'string' },
      model: { type: 'string' },
      'base-url': { type: 'string' },
      system: { type: 'string' },
      tools: { type: 'string', multiple: true },
      'allow-host': { type: 'string', multiple: true },
      'allow-dm': { type: 'string', multiple: true },
      'max-tick-seconds': { type: 'string' },
      'daily-llm-calls': { type: 'string' },
      'daily-tokens': { type: 'string' },
      mcp: { type: 'string', multiple: true },
      autonomy: { type: 'string' },
      approval: { type: 'string', multiple: true },
      'daily-actions': { type: 'string' },
      'approval-timeout': { type: 'string' },
      mnemonic: { type: 'string' },
      passphrase: { type: 'string' },
    });
    if (values.help) return ctx.stdout.write(`${USAGE}\n`), 0;
    if (positionals.length !== 1) throw new UsageError(`give exactly one agent name\n${USAGE}`);
    const home = openHome(values.home, ctx.env, values.database);
    const behavior = values.behavior ?? 'assistant';
    // A module path is resolved here, against the user's directory, not the daemon's.
    const config = configFromFlags(values);
    const request = {
      name: positionals[0] as string,
      behavior: isModuleBehavior(behavior) ? resolveModuleBehavior(behavior) : behavior,
      relays: values.relay,
      dmPolicy: values.policy,
      ...(config ? { config } : {}),
    };
    const client = await connectControl(home.home);
    let summary;
    if (client) {
      summary = await client.create(request);
    } else {
      await loadFastCrypto();
      const { seed } = await loadSeed({ home: home.home, mnemonic: values.mnemonic, passphrase: values.passphrase }, ctx);
      const storage = await openStorage(home);
      try {
        summary = await summarize(storage, await createAgentRecord(storage, seed, request, defaultRelays(home.config), Date.now()), Date.now());
      } finally {
        await storage.close();
      }
    }
    if (values.json) {
      const { name, index, account, publicKey, npub, relays } = summary;
      ctx.stdout.write(`${JSON.stringify({ name, index, account, publicKey, npub, relays })}\n`);
    } else {
      ctx.stdout.write(`created agent "${summary.name}" (agent ${summary.index}, account ${summary.account}, behavior ${summary.behavior})\n  npub    ${summary.npub}\n  relays  ${summary.relays.join(' ')}\n`);
      if (!client) ctx.stdout.write('the daemon is not running: start it with `agent run` (or `agent up`)\n');
    }
    return 0;
  },
};
