/**
 * `agent mcp <agent> add|list|rm`: an agent's MCP servers, stored in its config (the daemon reads
 * the config per tick and reopens the servers when they changed). `add --allow` grants tools
 * (`server.tool` entries in the agent's `tools`); `rm` removes the server and its grants;
 * `list --tools` starts each server from this process to show what it offers.
 */
import { DEFAULT_TOOLS, parseAgentConfig } from '../../runtime/agent-config.js';
import { serverOfEntry } from '../../think/mcp/names.js';
import { createMcpSession } from '../../think/mcp/session.js';
import { isStdioServer, type McpServerConfig, type McpServers } from '../../think/mcp/types.js';
import { parse, parsePositive } from '../args.js';
import type { Command, CommandContext } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { hasStorage, openHome, openStorage } from '../home-context.js';
import { headerValues, keyValues, parseMcpSpec } from '../mcp-spec.js';

const USAGE = [
  "usage: agent mcp <agent> add 'name=command args…' | name=https://… [--allow tool,…|*] [--env KEY=VALUE …] [--pass-env NAME …]",
  "                             [--header 'Name: value' …] [--start-timeout S] [--call-timeout S]",
  '       agent mcp <agent> list [--tools] [--json]',
  '       agent mcp <agent> rm <name>',
].join('\n');

const list = (v: unknown): string[] => (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []).flatMap((x: string) => x.split(',')).map((x) => x.trim()).filter(Boolean);

/** A server as `list` prints it: env and header values hidden (they may be secrets). */
function describe(name: string, config: McpServerConfig, grants: string[]): Record<string, unknown> {
  const base = isStdioServer(config)
    ? { name, transport: 'stdio', command: config.command, args: config.args, env: Object.keys(config.env), passEnv: config.passEnv }
    : { name, transport: 'http', url: config.url, headers: Object.keys(config.headers) };
  return { ...base, allow: grants.filter((t) => serverOfEntry(t) === name).map((t) => t.slice(name.length + 1)) };
}

export const mcpCommand: Command = {
  name: 'mcp',
  summary: "add, list or remove an agent's MCP servers (tools over stdio or Streamable HTTP)",
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parse(argv, {
      allow: { type: 'string', multiple: true },
      env: { type: 'string', multiple: true },
      'pass-env': { type: 'string', multiple: true },
      header: { type: 'string', multiple: true },
      'start-timeout': { type: 'string' },
      'call-timeout': { type: 'string' },
      tools: { type: 'boolean' },
    });
    if (values.help) return ctx.stdout.write(`${USAGE}\n`), 0;
    const [agent, action, arg, ...more] = positionals;
    if (!agent || !action || !['add', 'list', 'rm'].includes(action) || more.length > 0) throw new UsageError(USAGE);
    const home = openHome(values.home, ctx.env, values.database);
    if (!hasStorage(home)) throw new CliError(`no agent named "${agent}"`, 2);
    const storage = await openStorage(home);
    try {
      const record = await storage.agents.get(agent);
      if (!record) throw new CliError(`no agent named "${agent}"`, 2);
      const config = parseAgentConfig({ ...record.config, behavior: record.behavior }, record.name);
      const servers: McpServers = { ...config.mcp };
      const tools = [...(config.tools ?? DEFAULT_TOOLS)];
      const save = async (nextServers: McpServers, nextTools: string[]): Promise<void> => {
        await storage.agents.updateConfig(record.index, { ...record.config, mcp: nextServers, tools: nextTools }, Date.now());
      };
      if (action === 'list') return await listServers(ctx, servers, tools, { json: !!values.json, tools: !!values.tools });
      if (!arg) throw new UsageError(USAGE);
      if (action === 'rm') {
        if (!(arg in servers)) throw new CliError(`agent "${agent}" has no MCP server "${arg}"`, 2);
        delete servers[arg];
        await save(servers, tools.filter((t) => serverOfEntry(t) !== arg));
        ctx.stdout.write(values.json ? `${JSON.stringify({ removed: arg })}\n` : `removed MCP server "${arg}" and its tool grants from ${agent}\n`);
        return 0;
      }
      const seconds = (flag: 'start-timeout' | 'call-timeout'): number | undefined => (typeof values[flag] === 'string' ? Math.round(parsePositive(values[flag], `--${flag}`) * 1000) : undefined);
      const extra: Record<string, unknown> = {};
      if (values.env) extra.env = keyValues(values.env, '--env');
      if (values['pass-env']) extra.passEnv = list(values['pass-env']);
      if (values.header) extra.headers = headerValues(values.header);
      if (seconds('start-timeout') !== undefined) extra.startTimeoutMs = seconds('start-timeout');
      if (seconds('call-timeout') !== undefined) extra.callTimeoutMs = seconds('call-timeout');
      const { name, config: server } = parseMcpSpec(arg, extra);
      if (name in servers) throw new UsageError(`agent "${agent}" already has an MCP server "${name}" (rm it first)`);
      servers[name] = server;
      const allow = list(values.allow).map((t) => `${name}.${t}`);
      for (const entry of allow) if (serverOfEntry(entry) !== name) throw new UsageError(`--allow: "${entry.slice(name.length + 1)}" is not a tool name or *`);
      await save(servers, [...tools.filter((t) => !allow.includes(t)), ...allow]);
      if (values.json) ctx.stdout.write(`${JSON.stringify(describe(name, server, allow))}\n`);
      else {
        ctx.stdout.write(`added MCP server "${name}" to ${agent}${allow.length ? `; granted ${allow.join(', ')}` : ''}\n`);
        if (allow.length === 0) ctx.stdout.write(`no tool of it is granted yet: add --allow (e.g. --allow '*'), or see them with \`agent mcp ${agent} list --tools\`\n`);
      }
      return 0;
    } finally {
      await storage.close();
    }
  },
};

async function listServers(ctx: CommandContext, servers: McpServers, grants: string[], options: { json: boolean; tools: boolean }): Promise<number> {
  const rows = Object.entries(servers).map(([name, config]) => describe(name, config, grants));
  if (options.tools && rows.length > 0) {
    const session = createMcpSession(servers, { env: ctx.env });
    try {
      const listing = await session.list();
      for (const row of rows) {
        row.tools = listing.tools.filter((t) => t.server === row.name).map((t) => t.tool);
        const down = listing.unavailable.find((u) => u.server === row.name);
        if (down) row.error = down.error;
      }
    } finally {
      await session.close();
    }
  }
  if (options.json) {
    for (const row of rows) ctx.stdout.write(`${JSON.stringify(row)}\n`);
    return 0;
  }
  if (rows.length === 0) ctx.stdout.write('no MCP servers\n');
  for (const row of rows) {
    const where = row.transport === 'stdio' ? `${String(row.command)} ${(row.args as string[]).join(' ')}`.trim() : String(row.url);
    ctx.stdout.write(`${String(row.name)}  (${String(row.transport)}) ${where}\n  allowed: ${(row.allow as string[]).join(', ') || '(none)'}\n`);
    if (row.tools) ctx.stdout.write(`  tools:   ${(row.tools as string[]).join(', ') || '(none)'}\n`);
    if (row.error) ctx.stdout.write(`  error:   ${String(row.error)}\n`);
  }
  return 0;
}
