/**
 * `agent trajectory <agent> [--since DATE] [--limit N] [--json]`: the agent's ticks from the local store.
 * `agent trajectory <agent> --verify [--relay URL]…`: fetches its tick and session events from relays,
 * decrypts them with the owner key and checks signatures, the prev chain, seq and session hashes.
 * A thin wrapper: the work is in src/trajectory.
 */
import { resolveHome, homePaths } from '../../config/home.js';
import { loadConfig } from '../../config/load.js';
import { loadFastCrypto } from '../../protocol/crypto.js';
import { deriveFromSeed } from '../../protocol/nip06.js';
import { npubEncode, parsePublicKey } from '../../protocol/nip19.js';
import { WsRelayPool } from '../../relay/relay-pool.js';
import { SecretKeySigner } from '../../signer/secret-key-signer.js';
import type { AgentRecord, AgentStorage } from '../../storage/types.js';
import { fetchTrajectory, queryFromStream } from '../../trajectory/fetch.js';
import { formatTick, formatVerifyReport, tickJsonLine, viewFromRecord } from '../../trajectory/print.js';
import { verifyTrajectory } from '../../trajectory/verify.js';
import { silentLogger } from '../../util/logger.js';
import { parse, parsePositive } from '../args.js';
import type { Command, CommandContext } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { homeDatabaseUrl, openExistingStorage } from '../home-context.js';
import { loadSeed } from '../keys-source.js';

const USAGE = `usage:
  agent trajectory <agent> [--since DATE] [--limit N] [--json]      the agent's ticks (local store)
  agent trajectory <agent> --verify [--relay URL]… [--json]          verify its published trajectory
<agent> is a name or index from the home's database (for --verify also an npub or hex pubkey).
--since takes a date (2024-05-01, 2024-05-01T12:00Z). --verify reads from --relay URLs, else the
relays in <home>/config.json, and needs the owner's mnemonic (AGENT_MNEMONIC or <home>/keys).
Exit codes: 0 verified, 1 broken (or relays unreachable), 2 bad usage.`;

/** Parses `--since`: an ISO date or date-time, in ms. */
function parseSince(value: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new UsageError(`--since must be a date like 2024-05-01 or 2024-05-01T12:00Z, got "${value}"`);
  return ms;
}

/** Opens the home's agent storage read-only, or undefined when there is none. */
function openStorage(home: string, env: NodeJS.ProcessEnv): Promise<AgentStorage | undefined> {
  return openExistingStorage({ databaseUrl: homeDatabaseUrl(homePaths(home), env) });
}

async function findAgent(storage: AgentStorage, ref: string): Promise<AgentRecord | undefined> {
  return (await storage.agents.get(/^\d+$/.test(ref) ? Number(ref) : ref)) ?? (await storage.agents.get(ref));
}

async function list(ref: string, values: { home?: string; since?: string; limit?: string; json?: boolean }, ctx: CommandContext): Promise<number> {
  const since = values.since === undefined ? undefined : parseSince(values.since);
  const limit = values.limit === undefined ? undefined : parsePositive(values.limit, '--limit');
  if (limit !== undefined && !Number.isInteger(limit)) throw new UsageError(`--limit must be a whole number, got "${values.limit}"`);
  const home = resolveHome(values.home, ctx.env);
  const storage = await openStorage(home, ctx.env);
  if (!storage) throw new CliError(`no agents database at ${homePaths(home).database} (create an agent first, or pass --home)`, 2);
  try {
    const agent = await findAgent(storage, ref);
    if (!agent) throw new CliError(`no agent named "${ref}" in this home (see \`agent list\`)`, 2, { code: 'AGENT_NOT_FOUND' });
    const records = await storage.ticks.list(agent.index, { since, limit });
    const views = records.map((record) => viewFromRecord(record));
    if (values.json) for (const view of views) ctx.stdout.write(`${tickJsonLine(view)}\n`);
    else if (views.length === 0) ctx.stdout.write(`${agent.name} has no ticks${since === undefined ? '' : ' since then'}\n`);
    else ctx.stdout.write(`${views.map(formatTick).join('\n\n')}\n`);
    return 0;
  } finally {
    await storage.close();
  }
}

async function verify(ref: string, values: { home?: string; relay?: string[]; json?: boolean }, ctx: CommandContext): Promise<number> {
  const home = resolveHome(values.home, ctx.env);
  let agentPubkey: string;
  let localLastSeq: number | undefined;
  const storage = await openStorage(home, ctx.env);
  if (storage) {
    try {
      const agent = await findAgent(storage, ref);
      agentPubkey = agent?.pubkey ?? pubkeyOrUsage(ref);
      localLastSeq = agent ? (await storage.ticks.last(agent.index))?.seq : undefined;
    } finally {
      await storage.close();
    }
  } else agentPubkey = pubkeyOrUsage(ref);
  const relays = values.relay?.length ? values.relay : loadConfig(home).relays;
  if (relays.length === 0) throw new UsageError('no relays to verify against: pass --relay URL or set "relays" in config.json');

  await loadFastCrypto();
  const { seed } = await loadSeed({ home }, ctx);
  const owner = new SecretKeySigner(deriveFromSeed(seed, 0).secretKey);
  let pool: WsRelayPool;
  try {
    pool = new WsRelayPool({ relays, logger: silentLogger });
    // Relays that serve nothing before NIP-42 AUTH (or list these kinds as restricted) get the owner's key.
    pool.addAuthSigner(owner);
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
  try {
    const events = await fetchTrajectory(queryFromStream(pool), { agentPubkey });
    const down = pool.status().filter((s) => s.state !== 'connected');
    if (down.length === relays.length) {
      throw new CliError(`cannot verify: no relay answered (${down.map((s) => `${s.url}: ${s.lastError ?? s.state}`).join('; ')})`, 1);
    }
    for (const s of down) ctx.stderr.write(`agent: warning: ${s.url} did not answer (${s.lastError ?? s.state}); verified from the others\n`);
    const { report } = verifyTrajectory(events, { agentPubkey, owner });
    if (values.json) ctx.stdout.write(`${JSON.stringify({ agent: agentPubkey, npub: npubEncode(agentPubkey), ...report })}\n`);
    else ctx.stdout.write(`${formatVerifyReport(report)}\n`);
    if (report.ok && localLastSeq !== undefined && localLastSeq > report.ticks) {
      ctx.stderr.write(`agent: note: ${localLastSeq - report.ticks} of the ${localLastSeq} ticks recorded locally are not on these relays (yet)\n`);
    }
    return report.ok ? 0 : 1;
  } finally {
    await pool.close();
  }
}

function pubkeyOrUsage(ref: string): string {
  // Never echo a secret someone pasted by mistake.
  if (/^(nsec|ncryptsec)1/i.test(ref.trim())) throw new CliError('that is a private key (nsec): give the agent\'s name, npub or public key', 2);
  try {
    return parsePublicKey(ref);
  } catch {
    throw new CliError(`no agent named "${ref}" in this home, and it is not an npub or hex public key`, 2, { code: 'AGENT_NOT_FOUND' });
  }
}

/** The `agent trajectory` command. */
export const trajectoryCommand: Command = {
  name: 'trajectory',
  summary: "show an agent's ticks, or verify its published trajectory",
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parse(argv, {
      since: { type: 'string' },
      limit: { type: 'string' },
      verify: { type: 'boolean' },
      relay: { type: 'string', multiple: true },
    });
    if (values.help) {
      ctx.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`give exactly one agent (name, index${values.verify ? ', npub or pubkey' : ''})\n${USAGE}`);
    const ref = positionals[0]!;
    if (values.verify) {
      if (values.since !== undefined || values.limit !== undefined) throw new UsageError('--verify checks the whole trajectory: drop --since/--limit');
      return verify(ref, values, ctx);
    }
    if (values.relay) throw new UsageError('--relay is for --verify');
    return list(ref, values, ctx);
  },
};
