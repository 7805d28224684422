/**
 * `agent up`: the main job (`npm start`). Starts the embedded relay (SQLite in the home), creates an
 * owner mnemonic and an `assistant` agent on first run, runs the daemon, and says how to talk to it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { RelayStartError, startRelay } from '../../../relay-dev/index.js';
import { connectControl } from '../../control/client.js';
import { writeKeysFile } from '../../config/keys-file.js';
import { loadFastCrypto } from '../../protocol/crypto.js';
import { deriveFromSeed, generateMnemonic } from '../../protocol/nip06.js';
import { npubEncode } from '../../protocol/nip19.js';
import { stderrLogger } from '../../util/logger.js';
import { createAgentRecord } from '../agents.js';
import { parse, parseIndex } from '../args.js';
import type { Command } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { startDaemon } from '../daemon.js';
import { ensurePrivateFile, openHome, openStorage, type HomeContext } from '../home-context.js';
import { loadSeed } from '../keys-source.js';
import { listenFlags } from '../listen-flags.js';
import { untilSignal } from '../signals.js';

const USAGE = 'usage: agent up [--port 7777] [--host 127.0.0.1] [--metrics-host H --metrics-port P] [--hooks-host H --hooks-port P] [--log-level debug|info|warn|error] [--log-json]';

function ensureMnemonic(home: HomeContext, flag: string | undefined, env: NodeJS.ProcessEnv, out: NodeJS.WritableStream): void {
  if (flag !== undefined || env.AGENT_MNEMONIC || existsSync(home.paths.keys)) return;
  writeKeysFile(home.paths.keys, { mnemonic: generateMnemonic(12) });
  out.write(
    [
      '',
      `  A new owner mnemonic was created and written to ${home.paths.keys} (mode 600).`,
      '  It controls your owner key and every agent key. BACK IT UP NOW, offline:',
      `      cat ${home.paths.keys}`,
      '  (Encrypt it at rest with `agent keys encrypt`.)',
      '',
    ].join('\n') + '\n',
  );
}

export const upCommand: Command = {
  name: 'up',
  summary: 'start the embedded relay, the daemon and a default assistant (the main job)',
  usage: USAGE,
  async run(argv, ctx) {
    const { values } = parse(
      argv,
      {
        port: { type: 'string' },
        host: { type: 'string' },
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
    const base = openHome(values.home, ctx.env, values.database);
    const port = values.port === undefined ? base.config.relay.port : parseIndex(values.port, '--port');
    if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
    const relayHost = values.host ?? base.config.relay.host;
    const metrics = listenFlags(values, 'metrics');
    const hooks = listenFlags(values, 'hooks');
    mkdirSync(base.home, { recursive: true, mode: 0o700 });
    if (await connectControl(base.home)) throw new CliError(`a daemon is already running for ${base.home}; use \`agent chat\` or \`agent send\``, 2);
    ensureMnemonic(base, values.mnemonic, ctx.env, ctx.stdout);
    await loadFastCrypto();
    const { seed } = await loadSeed({ home: base.home, mnemonic: values.mnemonic, passphrase: values.passphrase }, ctx);

    ensurePrivateFile(base.paths.relayDatabase);
    // Listen before starting anything: a signal during start-up must still stop everything cleanly.
    const stopSignal = untilSignal();
    let relay;
    try {
      relay = await startRelay({ host: relayHost, port, dbFile: base.paths.relayDatabase, name: 'agent up (relay-dev)' });
    } catch (error) {
      if (error instanceof RelayStartError) throw new CliError(`${error.message} (is another \`agent up\` or relay running? try --port N)`, 2, { cause: error });
      throw error;
    }
    const relayUrl = `ws://${relayHost === '0.0.0.0' ? '127.0.0.1' : relayHost}:${relay.port}`;
    // New agents and the daemon use the embedded relay unless config.json names others.
    const home: HomeContext = { ...base, config: { ...base.config, relay: { host: relayHost, port: relay.port } } };
    const defaults = home.config.relays.length ? home.config.relays : [relayUrl];

    const storage = await openStorage(home);
    try {
      if ((await storage.agents.list()).length === 0) await createAgentRecord(storage, seed, { name: 'assistant', behavior: 'assistant' }, defaults, Date.now());
    } finally {
      await storage.close();
    }
    const level = (values['log-level'] ?? home.config.log.level) as 'info';
    const logger = stderrLogger(level, values['log-json'] ?? home.config.log.json);
    let daemon;
    try {
      daemon = await startDaemon({ home, seed, logger, relays: [relayUrl], ...(metrics ? { metrics } : {}), ...(hooks ? { hooks } : {}) });
    } catch (error) {
      await relay.close();
      throw error;
    }
    const agents = (await daemon.storage.agents.list()).filter((a) => a.state !== 'terminated');
    const first = agents.find((a) => a.name === 'assistant') ?? agents[0];
    const owner = npubEncode(deriveFromSeed(seed, 0).publicKey);
    ctx.stdout.write(
      [
        `agent up: ready (home ${home.home})`,
        `  relay      ${relayUrl}  (events in ${home.paths.relayDatabase})`,
        ...agents.map((a) => `  ${a.name.padEnd(10)} ${npubEncode(a.pubkey)}  (${a.behavior})`),
        `  owner      ${owner}`,
        ...(daemon.metricsServer ? [`  metrics    ${daemon.metricsServer.url}/metrics  (/healthz, /readyz)`] : []),
        ...(daemon.hooksServer ? [`  webhooks   ${daemon.hooksServer.url}/hooks/<agent>/<hook>  (agent hook <agent> add <hook>)`] : []),
        '',
        'Talk to it:',
        '  npx agent chat                          the terminal UI',
        `  npx agent send ${first?.name ?? 'assistant'} "help"          one message from the command line`,
        `  any Nostr client (NIP-17 DMs): add relay ${relayUrl} and message ${first ? npubEncode(first.pubkey) : 'the agent'}`,
        '  (the assistant answers its owner key only; `npx agent create echo --behavior echo` answers anyone)',
        '',
        'Ctrl+C stops everything.',
        '',
      ].join('\n'),
    );
    const signal = await stopSignal;
    logger.log({ level: 'info', ns: 'up', msg: `${signal}: stopping` });
    await daemon.stop({ signal: AbortSignal.timeout(10_000) });
    await relay.close();
    return 0;
  },
};
