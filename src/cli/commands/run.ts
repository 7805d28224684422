/** `agent run`: the daemon for every agent of the home, against the configured relays. */
import { connectControl, readControlInfo } from '../../control/client.js';
import { stderrLogger } from '../../util/logger.js';
import { parse, parseIndex } from '../args.js';
import type { Command } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { startDaemon, type Shard } from '../daemon.js';
import { openHome } from '../home-context.js';
import { loadSeed } from '../keys-source.js';
import { listenFlags } from '../listen-flags.js';
import { untilSignal } from '../signals.js';

const USAGE = 'usage: agent run [--relay URL …] [--capacity N] [--lease-seconds S] [--shard I/N] [--metrics-host H --metrics-port P] [--hooks-host H --hooks-port P] [--log-level debug|info|warn|error] [--log-json]';

/** Parses `--shard i/n` (agent index % n === i). */
export function parseShard(value: string | undefined): Shard | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard must be I/N with 0 <= I < N, got "${value}"`);
  return { index: Number(m[1]), of: Number(m[2]) };
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run the daemon for all agents of the home (Ctrl+C stops it)',
  usage: USAGE,
  async run(argv, ctx) {
    const { values } = parse(
      argv,
      {
        relay: { type: 'string', multiple: true },
        shard: { type: 'string' },
        capacity: { type: 'string' },
        'lease-seconds': { type: 'string' },
        'log-level': { type: 'string' },
        'log-json': { type: 'boolean' },
        'metrics-host': { type: 'string' },
        'metrics-port': { type: 'string' },
        'hooks-host': { type: 'string' },
        'hooks-port': { type: 'string' },
        mnemonic: { type: 'string' },
        passphrase: { type: 'string' },
      },
      false,
    );
    if (values.help) return ctx.stdout.write(`${USAGE}\n`), 0;
    const shard = parseShard(values.shard);
    const capacity = values.capacity === undefined ? undefined : parseIndex(values.capacity, '--capacity');
    const leaseSeconds = values['lease-seconds'] === undefined ? undefined : Number(values['lease-seconds']);
    if (leaseSeconds !== undefined && !(Number.isFinite(leaseSeconds) && leaseSeconds >= 0.2 && leaseSeconds <= 3600)) {
      throw new UsageError(`--lease-seconds must be a number of seconds from 0.2 to 3600, got "${values['lease-seconds']}"`);
    }
    const metrics = listenFlags(values, 'metrics');
    const hooks = listenFlags(values, 'hooks');
    const home = openHome(values.home, ctx.env, values.database);
    if (await connectControl(home.home)) {
      throw new CliError(`a daemon is already running for ${home.home} (pid ${readControlInfo(home.home)?.info.pid}); stop it first`, 2);
    }
    const level = values['log-level'] ?? home.config.log.level;
    if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log-level must be debug, info, warn or error, got "${level}"`);
    const logger = stderrLogger(level as 'info', values['log-json'] ?? home.config.log.json);
    const { seed } = await loadSeed({ home: home.home, mnemonic: values.mnemonic, passphrase: values.passphrase }, ctx);
    // Listen before starting: a signal during start-up must still stop the daemon cleanly.
    const stopSignal = untilSignal();
    const daemon = await startDaemon({ home, seed, logger, relays: values.relay, shard, ...(capacity !== undefined ? { capacity } : {}), ...(leaseSeconds !== undefined ? { leaseMs: Math.round(leaseSeconds * 1000) } : {}), ...(metrics ? { metrics } : {}), ...(hooks ? { hooks } : {}) });
    const metricsNote = `${daemon.metricsServer ? `, metrics ${daemon.metricsServer.url}/metrics` : ''}${daemon.hooksServer ? `, hooks ${daemon.hooksServer.url}/hooks` : ''}`;
    ctx.stdout.write(`daemon ready: ${daemon.agents} agents (${daemon.leases.held().length} held as ${daemon.leases.id}), relays ${daemon.relays().join(' ')}, control ${daemon.control.url}${metricsNote}\n`);
    const signal = await stopSignal;
    logger.log({ level: 'info', ns: 'daemon', msg: `${signal}: stopping (running ticks finish, or roll back after 10 s)` });
    await daemon.stop({ signal: AbortSignal.timeout(10_000) });
    return 0;
  },
};
