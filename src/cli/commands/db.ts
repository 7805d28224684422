/**
 * `agent db status` and `agent db copy --from URL --to URL [--force]`: which engine and schema the
 * home's database has and how big it is; moving every agent from one database to another (e.g.
 * the home's SQLite file to PostgreSQL). Passwords in URLs are masked in everything printed.
 */
import { copyDatabase, databaseStatus } from '../../storage/copy.js';
import { StorageConflictError } from '../../storage/errors.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { openHome } from '../home-context.js';

const USAGE = 'usage: agent db status [--database URL] [--json]\n       agent db copy --from URL --to URL [--force] [--json]';

export const dbCommand: Command = {
  name: 'db',
  summary: 'the database: engine, schema version and sizes (status); copy every agent to another database (copy)',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parse(argv, { from: { type: 'string' }, to: { type: 'string' }, force: { type: 'boolean' } });
    if (values.help) return ctx.stdout.write(`${USAGE}\n`), 0;
    const [sub, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(USAGE);
    if (sub === 'status') {
      const home = openHome(values.home, ctx.env, values.database);
      const status = await databaseStatus(home.databaseUrl);
      if (values.json) ctx.stdout.write(`${JSON.stringify(status)}\n`);
      else {
        const rows = Object.entries(status.rows).map(([t, n]) => `  ${t.padEnd(17)} ${n}`).join('\n');
        ctx.stdout.write(`database ${status.url}\nengine   ${status.engine}\nschema   version ${status.schemaVersion}\nsize     ${status.sizeBytes} bytes\nrows\n${rows}\n`);
      }
      return 0;
    }
    if (sub === 'copy') {
      if (!values.from || !values.to) throw new UsageError(`agent db copy needs --from URL and --to URL\n${USAGE}`);
      if (values.from === values.to) throw new UsageError('agent db copy: --from and --to name the same database');
      const report = await copyDatabase(values.from, values.to, { force: values.force ?? false }).catch((error: unknown) => {
        // A non-empty target is the user's to decide about (--force): exit 2, like a bad argument.
        if (error instanceof StorageConflictError) throw new CliError(error.message, 2, { code: error.code });
        throw error;
      });
      if (values.json) ctx.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        const moved = Object.entries(report.rows).filter(([, n]) => n > 0).map(([t, n]) => `${t} ${n}`).join(', ');
        ctx.stdout.write(`copied ${report.from} → ${report.to}: ${report.rows.agents ?? 0} agents (${moved}; ${report.chainHeads} chain heads)\n`);
      }
      return 0;
    }
    throw new UsageError(USAGE);
  },
};
