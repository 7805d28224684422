/**
 * `agent takeover <name>`: the owner says this machine runs the agent, although another machine
 * wrote a newer snapshot or trajectory (the daemon holds such an agent; docs/recovery.md). A newer
 * snapshot is imported first; the next `agent run` runs the agent and its next snapshot makes the
 * other machine hold it.
 */
import { existsSync } from 'node:fs';
import { connectControl } from '../../control/client.js';
import { loadFastCrypto } from '../../protocol/crypto.js';
import { deriveFromSeed } from '../../protocol/nip06.js';
import { normalizeRelayUrl } from '../../protocol/relay-url.js';
import { WsRelayPool } from '../../relay/relay-pool.js';
import { SnapshotError } from '../../recovery/errors.js';
import { takeOver } from '../../recovery/guard.js';
import { droppedEventSink, poolReader } from '../../recovery/pool-reader.js';
import { SnapshotStateFile } from '../../recovery/state.js';
import { SecretKeySigner } from '../../signer/secret-key-signer.js';
import { agentRelays } from '../agents.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { defaultRelays, openHome, openStorage } from '../home-context.js';
import { loadSeed } from '../keys-source.js';

const USAGE = 'usage: agent takeover <name> [--relay URL …] [--json]';

export const takeoverCommand: Command = {
  name: 'takeover',
  summary: 'run a held agent on this machine (another machine wrote a newer snapshot or trajectory)',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parse(argv, { relay: { type: 'string', multiple: true }, mnemonic: { type: 'string' }, passphrase: { type: 'string' } });
    if (values.help) return ctx.stdout.write(`${USAGE}\n`), 0;
    if (positionals.length !== 1) throw new UsageError(USAGE);
    const name = positionals[0]!;
    const home = openHome(values.home, ctx.env);
    if (await connectControl(home.home)) throw new CliError(`a daemon is running for ${home.home}; stop it, take the agent over, then start it again`, 2);
    if (!existsSync(home.paths.database)) throw new CliError(`no agent named "${name}"`, 2, { code: 'AGENT_NOT_FOUND' });
    const { seed } = await loadSeed({ home: home.home, mnemonic: values.mnemonic, passphrase: values.passphrase }, ctx);
    await loadFastCrypto();
    const storage = await openStorage(home);
    try {
      const record = await storage.agents.get(name);
      if (!record) throw new CliError(`no agent named "${name}"`, 2, { code: 'AGENT_NOT_FOUND' });
      const relays = [...new Set([...(values.relay ?? []), ...agentRelays(record), ...defaultRelays(home.config)].map((u) => normalizeRelayUrl(u) ?? u))];
      const dropped = droppedEventSink();
      const pool = new WsRelayPool({ relays, pingIntervalMs: 0, onDroppedEvent: dropped.onDroppedEvent });
      try {
        const signer = new SecretKeySigner(deriveFromSeed(seed, record.index + 1).secretKey);
        const state = new SnapshotStateFile(home.paths.snapshots);
        const result = await takeOver({ storage, state, agent: { index: record.index, name: record.name, signer, reader: poolReader(pool, { relays, dropped }) } });
        if (values.json) ctx.stdout.write(`${JSON.stringify({ name: record.name, ...result })}\n`);
        else {
          ctx.stdout.write(`${record.name}: taken over${result.imported ? ` (imported the other machine's snapshot, generation ${result.generation})` : ''}; trajectory accepted up to tick ${result.seq}. Start the daemon (agent run) to run it here.\n`);
        }
        return 0;
      } catch (error) {
        if (error instanceof SnapshotError) throw new CliError(`takeover stopped: ${error.message}`, 1, { cause: error });
        throw error;
      } finally {
        await pool.close();
      }
    } finally {
      await storage.close();
    }
  },
};
