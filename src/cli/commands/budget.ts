/** `agent budget <name> [limits…]`: shows or sets an agent's budgets (stored in its config; the daemon reads them per tick). */
import { BudgetLimitsSchema } from '../../runtime/agent-config.js';
import { budgetView, formatBudget, utcDay } from '../../runtime/budget.js';
import { parse, parsePositive } from '../args.js';
import type { Command } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { hasStorage, openHome, openStorage } from '../home-context.js';

const USAGE =
  'usage: agent budget <name> [--tick-seconds N] [--daily-compute S] [--storage-bytes B] [--daily-llm-calls N] [--daily-tokens N] [--daily-sats N] [--json]';

/** Flag → budget field and how to convert the number. */
const FLAGS = {
  'tick-seconds': (v: number) => ({ maxTickMs: Math.round(v * 1000) }),
  'daily-compute': (v: number) => ({ dailyComputeSeconds: v }),
  'storage-bytes': (v: number) => ({ storageBytes: Math.round(v) }),
  'daily-llm-calls': (v: number) => ({ dailyLlmCalls: Math.round(v) }),
  'daily-tokens': (v: number) => ({ dailyTokens: Math.round(v) }),
  'daily-sats': (v: number) => ({ dailySats: Math.round(v) }),
} as const;

export const budgetCommand: Command = {
  name: 'budget',
  summary: "show or set an agent's budgets (tick time, compute, storage, LLM, sats)",
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parse(argv, Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'string' as const }])));
    if (values.help) return ctx.stdout.write(`${USAGE}\n`), 0;
    if (positionals.length !== 1) throw new UsageError(USAGE);
    const name = positionals[0] as string;
    const home = openHome(values.home, ctx.env, values.database);
    if (!hasStorage(home)) throw new CliError(`no agent named "${name}"`, 2, { code: 'AGENT_NOT_FOUND' });
    const storage = await openStorage(home);
    try {
      const record = await storage.agents.get(name);
      if (!record) throw new CliError(`no agent named "${name}"`, 2, { code: 'AGENT_NOT_FOUND' });
      const current = (record.config as { budget?: Record<string, unknown> }).budget ?? {};
      let changes: Record<string, number> = {};
      for (const [flag, convert] of Object.entries(FLAGS)) {
        const raw = (values as Record<string, unknown>)[flag];
        if (typeof raw === 'string') changes = { ...changes, ...convert(parsePositive(raw, `--${flag}`)) };
      }
      let config = record.config;
      if (Object.keys(changes).length > 0) {
        const merged = { ...current, ...changes };
        const checked = BudgetLimitsSchema.safeParse(merged);
        if (!checked.success) throw new UsageError(`invalid budget: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        config = (await storage.agents.updateConfig(record.index, { ...record.config, budget: merged }, Date.now())).config;
      }
      const limits = BudgetLimitsSchema.parse((config as { budget?: unknown }).budget ?? {});
      const now = Date.now();
      const view = budgetView(utcDay(now), await storage.budget.get(record.index, utcDay(now)), limits, await storage.budget.storageBytes(record.index));
      if (values.json) ctx.stdout.write(`${JSON.stringify({ name: record.name, limits, today: view })}\n`);
      else ctx.stdout.write(`${record.name}: max tick ${limits.maxTickMs / 1000} s\n${formatBudget(view)}\n`);
      return 0;
    } finally {
      await storage.close();
    }
  },
};
