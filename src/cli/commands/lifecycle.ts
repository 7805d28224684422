/**
 * `agent pause|resume|terminate|recover <name>`: through the daemon when it runs (so running ticks
 * and hibernation are handled), else as a checked state change in the home database.
 */
import { connectControl } from '../../control/client.js';
import type { AgentAction } from '../../control/types.js';
import { assertTransition, type AgentState } from '../../runtime/lifecycle.js';
import { AgentStateError } from '../../runtime/errors.js';
import { summarize } from '../agents.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { hasStorage, openHome, openStorage } from '../home-context.js';

/** The state each action leads to when the daemon is not running (it normalizes `active` on start). */
const OFFLINE_TARGET: Record<AgentAction, AgentState> = { pause: 'paused', resume: 'dormant', recover: 'active', terminate: 'terminated' };
const SUMMARY: Record<AgentAction, string> = {
  pause: 'pause an agent (its messages wait until resume)',
  resume: 'resume a paused agent',
  terminate: 'terminate an agent for good (its data stays)',
  recover: 'bring a failed agent back',
};

function lifecycleCommand(action: AgentAction): Command {
  const usage = `usage: agent ${action} <name> [--json]`;
  return {
    name: action,
    summary: SUMMARY[action],
    usage,
    async run(argv, ctx) {
      const { values, positionals } = parse(argv, {});
      if (values.help) return ctx.stdout.write(`${usage}\n`), 0;
      if (positionals.length !== 1) throw new UsageError(usage);
      const name = positionals[0] as string;
      const home = openHome(values.home, ctx.env, values.database);
      const client = await connectControl(home.home);
      let summary;
      if (client) {
        try {
          summary = await client.act(name, action);
        } catch (error) {
          const status = (error as { status?: number }).status;
          throw new CliError((error as Error).message, status === 404 || status === 409 ? 2 : 1, { cause: error });
        }
      } else {
        if (!hasStorage(home)) throw new CliError(`no agent named "${name}"`, 2, { code: 'AGENT_NOT_FOUND' });
        const storage = await openStorage(home);
        try {
          const record = await storage.agents.get(name);
          if (!record) throw new CliError(`no agent named "${name}"`, 2, { code: 'AGENT_NOT_FOUND' });
          try {
            assertTransition(name, record.state, OFFLINE_TARGET[action]);
          } catch (error) {
            if (error instanceof AgentStateError) throw new CliError(`${record.name} is ${record.state}: cannot ${action}`, 2, { cause: error });
            throw error;
          }
          const updated = await storage.agents.updateState(record.index, OFFLINE_TARGET[action], { now: Date.now(), ...(action === 'recover' ? { error: undefined } : {}) });
          summary = await summarize(storage, updated, Date.now());
        } finally {
          await storage.close();
        }
      }
      if (values.json) ctx.stdout.write(`${JSON.stringify(summary)}\n`);
      else ctx.stdout.write(`${summary.name}: ${summary.state}\n`);
      return 0;
    },
  };
}

export const pauseCommand = lifecycleCommand('pause');
export const resumeCommand = lifecycleCommand('resume');
export const terminateCommand = lifecycleCommand('terminate');
export const recoverCommand = lifecycleCommand('recover');
