/**
 * The `agent` CLI entry: finds the command, runs it, and maps errors to exit codes.
 * Commands are imported lazily so `agent keys` never loads the relay, SQLite or React.
 */
import type { Command, CommandContext } from './command.js';
import { ConfigError, KeysError } from '../config/errors.js';
import { DatabaseOpenError } from '../storage/errors.js';
import { errorCode } from '../util/errors.js';
import { CliError, UsageError } from './errors.js';

/** Command name → loader. Add a line here when a command lands. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  keys: async () => (await import('./commands/keys.js')).keysCommand,
  create: async () => (await import('./commands/create.js')).createCommand,
  list: async () => (await import('./commands/list.js')).listCommand,
  status: async () => (await import('./commands/status.js')).statusCommand,
  daemons: async () => (await import('./commands/daemons.js')).daemonsCommand,
  send: async () => (await import('./commands/send.js')).sendCommand,
  run: async () => (await import('./commands/run.js')).runCommand,
  up: async () => (await import('./commands/up.js')).upCommand,
  pause: async () => (await import('./commands/lifecycle.js')).pauseCommand,
  resume: async () => (await import('./commands/lifecycle.js')).resumeCommand,
  terminate: async () => (await import('./commands/lifecycle.js')).terminateCommand,
  recover: async () => (await import('./commands/lifecycle.js')).recoverCommand,
  budget: async () => (await import('./commands/budget.js')).budgetCommand,
  logs: async () => (await import('./commands/logs.js')).logsCommand,
  trajectory: async () => (await import('./commands/trajectory.js')).trajectoryCommand,
  relay: async () => (await import('./commands/relay.js')).relayCommand,
  chat: async () => (await import('./commands/chat.js')).chatCommand,
  mcp: async () => (await import('./commands/mcp.js')).mcpCommand,
  watch: async () => (await import('./commands/watch.js')).watchCommand,
  hook: async () => (await import('./commands/hook.js')).hookCommand,
  restore: async () => (await import('./commands/restore.js')).restoreCommand,
  takeover: async () => (await import('./commands/takeover.js')).takeoverCommand,
  db: async () => (await import('./commands/db.js')).dbCommand,
};

function help(commands: Command[]): string {
  const lines = ['usage: agent <command> [options]', '', 'commands:'];
  for (const c of commands) lines.push(`  ${c.name.padEnd(12)} ${c.summary}`);
  lines.push('', 'Run `agent <command> --help` for a command\'s options. Common: --home DIR (env AGENT_HOME, default ~/.agent), --database URL (sqlite:PATH or postgres://…; env AGENT_DATABASE_URL, config database.url, default <home>/agents.db), --json.');
  return lines.join('\n');
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], ctx: CommandContext): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      const all = await Promise.all(Object.values(COMMANDS).map((load) => load()));
      ctx.stdout.write(`${help(all)}\n`);
      return name ? 0 : 2;
    }
    const load = COMMANDS[name];
    if (!load) throw new UsageError(`unknown command "${name}" (run \`agent --help\` for the list)`);
    const command = await load();
    return await command.run(rest, ctx);
  } catch (error) {
    // With --json, the error is one JSON object on stderr too: {"error", "code"} (codes: README).
    const json = rest.includes('--json');
    const report = (message: string): void => void ctx.stderr.write(json ? `${JSON.stringify({ error: message, code: errorCode(error) })}\n` : `agent: ${message}\n`);
    if (error instanceof UsageError || error instanceof ConfigError || error instanceof KeysError || error instanceof DatabaseOpenError) {
      report(error.message);
      return 2;
    }
    if (error instanceof CliError) {
      report(error.message);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    report(`unexpected error: ${message}`);
    if (ctx.env.AGENT_DEBUG) ctx.stderr.write(`${error instanceof Error ? error.stack : ''}\n`);
    return 1;
  }
}
