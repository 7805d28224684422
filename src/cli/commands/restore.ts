/**
 * `agent restore`: brings every agent of the mnemonic back into this home from its encrypted
 * snapshots on the relays (docs/recovery.md). Everything is read and verified first; only then is
 * anything written, all agents in one transaction, so a bad chunk leaves the home as it was.
 */
import { connectControl } from '../../control/client.js';
import { loadFastCrypto } from '../../protocol/crypto.js';
import { deriveFromSeed } from '../../protocol/nip06.js';
import { normalizeRelayUrl } from '../../protocol/relay-url.js';
import { WsRelayPool } from '../../relay/relay-pool.js';
import { RestoreRefusedError, SnapshotError } from '../../recovery/errors.js';
import { importAgentSnapshot, summarize, type ImportSummary } from '../../recovery/import.js';
import { droppedEventSink, poolReader } from '../../recovery/pool-reader.js';
import { findAgents, readAllSnapshots, recordRestored } from '../../recovery/restore.js';
import { SnapshotStateFile } from '../../recovery/state.js';
import { SecretKeySigner } from '../../signer/secret-key-signer.js';
import { CodedError } from '../../util/errors.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { defaultRelays, openHome, openStorage } from '../home-context.js';
import { loadSeed } from '../keys-source.js';

const USAGE = 'usage: agent restore [--relay URL …] [--dry-run] [--force] [--json] [--mnemonic "…"] [--passphrase P]';

/** One line per agent: what came back. */
function line(s: ImportSummary & { snapshotAt: number; generation: number; final: boolean }): string {
  const n = (count: number, what: string): string => `${count} ${what}${count === 1 ? '' : 's'}`;
  const stripped = s.stripped.length ? `; not in the snapshot, set again: ${s.stripped.join(', ')}` : '';
  return `${s.name}: ${n(s.facts, 'fact')}, ${n(s.schedules, 'schedule')}, ${n(s.ticks, 'tick')}, ${n(s.kv, 'kv entry').replace('entrys', 'entries')}, ${n(s.messages, 'message')}; snapshot of ${new Date(s.snapshotAt).toISOString()} (generation ${s.generation}${s.final ? ', final' : ''})${s.replaced ? ', replaced the local copy' : ''}${stripped}`;
}

export const restoreCommand: Command = {
  name: 'restore',
  summary: "bring the agents back from their encrypted snapshots on the relays (needs only the mnemonic)",
  usage: USAGE,
  async run(argv, ctx) {
    const { values } = parse(argv, { relay: { type: 'string', multiple: true }, 'dry-run': { type: 'boolean' }, force: { type: 'boolean' }, mnemonic: { type: 'string' }, passphrase: { type: 'string' } }, false);
    if (values.help) return ctx.stdout.write(`${USAGE}\n`), 0;
    const home = openHome(values.home, ctx.env);
    if (await connectControl(home.home)) throw new CliError(`a daemon is running for ${home.home}; stop it before restoring into this home`, 2);
    const relays = (values.relay?.length ? values.relay : defaultRelays(home.config)).map((url) => {
      const normalized = normalizeRelayUrl(url);
      if (!normalized) throw new UsageError(`not a relay URL (expected ws:// or wss://): ${url}`);
      return normalized;
    });
    const { seed } = await loadSeed({ home: home.home, mnemonic: values.mnemonic, passphrase: values.passphrase }, ctx);
    await loadFastCrypto();
    const owner = new SecretKeySigner(deriveFromSeed(seed, 0).secretKey);
    const signers = new Map<number, SecretKeySigner>();
    const signerFor = (index: number): SecretKeySigner => {
      let s = signers.get(index);
      if (!s) signers.set(index, (s = new SecretKeySigner(deriveFromSeed(seed, index + 1).secretKey)));
      return s;
    };
    const dropped = droppedEventSink();
    const pool = new WsRelayPool({ relays, pingIntervalMs: 0, onDroppedEvent: dropped.onDroppedEvent });
    let reads;
    let source: 'registry' | 'scan';
    try {
      const reader = poolReader(pool, { relays, dropped });
      const found = await findAgents(reader, owner, (account) => signerFor(account - 1).getPublicKey());
      source = found.source;
      if (found.agents.length === 0) throw new SnapshotError('SNAPSHOT_NOT_FOUND', 'registry', 'registry', `no registry and no agent profile of this owner on ${relays.join(' ')}`);
      reads = await readAllSnapshots(
        (entry) => {
          const theirs = entry.relays.map((u) => normalizeRelayUrl(u)).filter((u): u is string => !!u);
          return poolReader(pool, { relays: [...new Set([...relays, ...theirs])], dropped });
        },
        found.agents,
        signerFor,
      );
    } catch (error) {
      if (error instanceof SnapshotError) throw new CliError(`restore stopped, nothing was imported: ${error.message}`, 1, { cause: error });
      throw error;
    } finally {
      await pool.close();
    }

    const storage = await openStorage(home);
    try {
      const existing = await storage.agents.list();
      if (existing.length > 0 && !values.force) {
        throw new CliError(`${home.home} already has ${existing.length} agent(s) (${existing.map((a) => a.name).join(', ')}); restore into an empty home, or pass --force to replace the agents restored`, 2, {
          cause: new RestoreRefusedError('home not empty'),
        });
      }
      const now = Date.now();
      const details = (read: (typeof reads)[number], summary: ImportSummary) => ({ ...summary, snapshotAt: read.manifest.createdAt, generation: read.manifest.generation, final: read.manifest.final });
      let summaries: Array<ReturnType<typeof details>>;
      if (values['dry-run']) {
        summaries = reads.map((read) => details(read, summarize(read.snapshot, existing.some((a) => a.index === read.snapshot.agent.index))));
      } else {
        // All agents in one transaction: a refusal for any of them leaves the home as it was.
        try {
          summaries = await storage.transaction(async (tx) => {
            const out: Array<ReturnType<typeof details>> = [];
            for (const read of reads) out.push(details(read, await importAgentSnapshot(tx, read.snapshot, { now, replace: values.force ?? false })));
            return out;
          });
        } catch (error) {
          if (error instanceof CodedError) throw new CliError(`restore stopped, nothing was imported: ${error.message}`, 1, { cause: error });
          throw error;
        }
        const state = new SnapshotStateFile(home.paths.snapshots);
        for (const read of reads) recordRestored(state, read);
      }
      if (values.json) {
        ctx.stdout.write(`${JSON.stringify({ source, dryRun: values['dry-run'] ?? false, agents: summaries })}\n`);
      } else {
        const verb = values['dry-run'] ? 'would restore' : 'restored';
        ctx.stdout.write(`${verb} ${summaries.length} agent(s) (found by ${source === 'registry' ? "the owner's registry" : 'scanning accounts'}):\n`);
        for (const s of summaries) ctx.stdout.write(`  ${line(s)}\n`);
        if (!values['dry-run']) ctx.stdout.write('next: agent run\n');
      }
      return 0;
    } finally {
      await storage.close();
    }
  },
};
