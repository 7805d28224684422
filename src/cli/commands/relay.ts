/**
 * `agent relay`: runs relay-dev in the foreground until SIGINT/SIGTERM, then shuts down cleanly
 * (pending EVENTs answered and committed, sockets closed with a reason, database closed).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { RelayStartError, startRelay } from '../../../relay-dev/index.js';
import { homePaths, resolveHome } from '../../config/home.js';
import { stderrLogger } from '../../util/logger.js';
import { parse, parseIndex } from '../args.js';
import type { Command } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { untilSignal } from '../signals.js';

const USAGE = `usage: agent relay [--host 127.0.0.1] [--port 7777] [--db FILE | --memory] [--auth MODE] [options]

  --host ADDR          interface to bind (default 127.0.0.1; 0.0.0.0 to serve the network)
  --port N             port (default 7777; 0 picks a free one and prints it)
  --db FILE            SQLite database (default <home>/relay.db)
  --memory             keep events in memory only
  --name NAME          NIP-11 relay name
  --public-url URL     the ws(s):// URL clients use when behind a proxy (for NIP-42)
  --rate N             EVENTs per second per connection (default 200; 0 = no limit)
  --verify-threads N   signature-checking threads (default: one per core, at most 4; 0 = main thread)
  --no-metrics         do not serve Prometheus metrics at GET /metrics on the relay's port
  --auth MODE          NIP-42 habit: on-connect (default: challenge on connect), on-demand (challenge only
                       when something needs AUTH, like strfry), required (AUTH before anything), off (no NIP-42)
  --withhold WHICH     answer unauthenticated reads of kinds 4/1059 by withholding them instead of CLOSED:
                       mixed (strfry: CLOSED only when every filter asks for them alone) or all (never CLOSED)
  --auth-keys N        pubkeys that may authenticate on one connection (strfry: 1; default: no limit)
  --json               print {"url","port","db"} instead of the listening line
  --verbose            log debug records to stderr`;

const AUTH_MODES = ['on-connect', 'on-demand', 'required', 'off'] as const;
const WITHHOLD_MODES = ['mixed', 'all'] as const;

/** A flag value from a fixed list, or undefined when the flag was not given; anything else is a usage error. */
function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
}

export const relayCommand: Command = {
  name: 'relay',
  summary: 'run the bundled Nostr relay (relay-dev)',
  usage: USAGE,
  async run(argv, ctx) {
    const { values } = parse(
      argv,
      {
        host: { type: 'string' },
        port: { type: 'string' },
        db: { type: 'string' },
        memory: { type: 'boolean' },
        name: { type: 'string' },
        'public-url': { type: 'string' },
        rate: { type: 'string' },
        'verify-threads': { type: 'string' },
        auth: { type: 'string' },
        withhold: { type: 'string' },
        'auth-keys': { type: 'string' },
        verbose: { type: 'boolean' },
        'no-metrics': { type: 'boolean' },
      },
      false,
    );
    if (values.help) return ctx.stdout.write(`${USAGE}\n`), 0;
    if (values.db !== undefined && values.memory) throw new UsageError('--db and --memory exclude each other');
    const port = values.port === undefined ? 7777 : parseIndex(values.port, '--port');
    if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
    const publicUrl = values['public-url'];
    if (publicUrl !== undefined && !/^wss?:\/\/[^\s/]+/.test(publicUrl)) {
      throw new UsageError(`--public-url must be a ws:// or wss:// URL, got "${publicUrl}"`);
    }
    const auth = oneOf(values.auth, '--auth', AUTH_MODES);
    const withhold = oneOf(values.withhold, '--withhold', WITHHOLD_MODES);
    const authKeys = values['auth-keys'] === undefined ? undefined : parseIndex(values['auth-keys'], '--auth-keys');
    if (authKeys === 0) throw new UsageError('--auth-keys must be at least 1');
    const dbFile = values.memory ? undefined : (values.db ?? homePaths(resolveHome(values.home, ctx.env)).relayDatabase);
    if (dbFile) mkdirSync(dirname(dbFile), { recursive: true, mode: 0o700 });

    // Listen before starting: a signal that arrives while the relay boots must still stop it cleanly.
    const stopSignal = untilSignal();
    let running;
    try {
      running = await startRelay({
        host: values.host ?? '127.0.0.1',
        port,
        dbFile,
        name: values.name,
        publicUrl,
        auth,
        withhold,
        authKeysPerConnection: authKeys,
        limits: values.rate === undefined ? undefined : { eventsPerSecond: parseIndex(values.rate, '--rate') },
        metrics: !values['no-metrics'],
        verifyThreads: values['verify-threads'] === undefined ? undefined : parseIndex(values['verify-threads'], '--verify-threads'),
        logger: stderrLogger(values.verbose ? 'debug' : 'info'),
      });
    } catch (error) {
      if (error instanceof RelayStartError) throw new CliError(error.message, 1, { cause: error });
      throw error;
    }
    const where = dbFile ?? 'memory';
    ctx.stdout.write(
      values.json
        ? `${JSON.stringify({ url: running.url, port: running.port, db: where })}\n`
        : `relay listening on ${running.url} (events in ${where})\n`,
    );

    const signal = await stopSignal;
    ctx.stderr.write(`agent relay: ${signal}, shutting down\n`);
    await running.close();
    ctx.stderr.write('agent relay: stopped\n');
    return 0;
  },
};
