/**
 * `agent keys generate | derive | show | encrypt`: the owner's identity and the agents' NIP-06 keys.
 * Secrets print only with `--reveal`; nothing here logs a key.
 */
import { existsSync } from 'node:fs';
import { resolveHome, homePaths } from '../../config/home.js';
import { encryptMnemonic, readKeysFile, writeKeysFile } from '../../config/keys-file.js';
import { loadMnemonic } from '../../config/mnemonic.js';
import { KeysError } from '../../config/errors.js';
import { loadFastCrypto } from '../../protocol/crypto.js';
import { bytesToHex } from '../../protocol/hex.js';
import { deriveFromSeed, generateMnemonic, type DerivedKey } from '../../protocol/nip06.js';
import { encryptKey } from '../../protocol/nip49.js';
import { npubEncode, nsecEncode } from '../../protocol/nip19.js';
import { parse, parseIndex } from '../args.js';
import type { Command, CommandContext } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { loadSeed } from '../keys-source.js';
import { askHidden } from '../prompt.js';

const USAGE = `usage:
  agent keys generate [--words 12|24] [--save]     print a new mnemonic (--save: also write <home>/keys)
  agent keys derive (--agent N | --account A) [--mnemonic "…"] [--passphrase P] [--json] [--reveal [--ncryptsec]]
  agent keys show [--json]                         the owner's and the agents' public keys
  agent keys encrypt                               encrypt <home>/keys with a passphrase (AGENT_PASSPHRASE or asked)
common: --home DIR (env AGENT_HOME, default ~/.agent); the mnemonic comes from --mnemonic, AGENT_MNEMONIC or <home>/keys`;

/** The public description of a derived key (what `--json` prints without `--reveal`). */
function describe(key: DerivedKey, reveal: boolean, ncryptsec?: string) {
  const out: Record<string, string | number> = { account: key.account, path: key.path, publicKey: key.publicKey, npub: npubEncode(key.publicKey) };
  if (reveal) {
    out.privateKey = bytesToHex(key.secretKey);
    out.nsec = nsecEncode(key.secretKey);
    if (ncryptsec) out.ncryptsec = ncryptsec;
  }
  return out;
}

function human(fields: Record<string, string | number>, title: string): string {
  const lines = [title];
  for (const [k, v] of Object.entries(fields)) if (k !== 'account' && k !== 'name') lines.push(`  ${k.padEnd(10)} ${v}`);
  return `${lines.join('\n')}\n`;
}

async function generate(argv: string[], ctx: CommandContext): Promise<number> {
  const { values } = parse(argv, { words: { type: 'string' }, save: { type: 'boolean' } }, false);
  const words = values.words ?? '12';
  if (words !== '12' && words !== '24') throw new UsageError(`--words must be 12 or 24, got "${words}"`);
  const mnemonic = generateMnemonic(Number(words) as 12 | 24);
  if (values.save) {
    const file = homePaths(resolveHome(values.home, ctx.env)).keys;
    if (existsSync(file)) throw new CliError(`${file} already exists; refusing to overwrite a mnemonic`, 2);
    writeKeysFile(file, { mnemonic });
    ctx.stderr.write(`wrote ${file} (mode 600). Back up this mnemonic offline: it controls all your agents.\n`);
  }
  ctx.stdout.write(`${mnemonic}\n`);
  return 0;
}

async function derive(argv: string[], ctx: CommandContext): Promise<number> {
  const { values } = parse(
    argv,
    {
      agent: { type: 'string' },
      account: { type: 'string' },
      mnemonic: { type: 'string' },
      passphrase: { type: 'string' },
      reveal: { type: 'boolean' },
      ncryptsec: { type: 'boolean' },
    },
    false,
  );
  if ((values.agent === undefined) === (values.account === undefined)) {
    throw new UsageError('give exactly one of --agent N or --account A');
  }
  const account = values.agent !== undefined ? parseIndex(values.agent, '--agent') + 1 : parseIndex(values.account ?? '', '--account');
  if (values.ncryptsec && !values.reveal) throw new UsageError('--ncryptsec exports a secret: add --reveal');
  await loadFastCrypto();
  const { seed } = await loadSeed({ home: resolveHome(values.home, ctx.env), mnemonic: values.mnemonic, passphrase: values.passphrase }, ctx);
  const key = deriveFromSeed(seed, account);
  let ncryptsec: string | undefined;
  if (values.ncryptsec) {
    const password = ctx.env.AGENT_NCRYPTSEC_PASSWORD ?? (await askHidden('Password for the ncryptsec export: '));
    if (!password) throw new UsageError('the ncryptsec password must not be empty');
    ncryptsec = encryptKey(key.secretKey, password);
  }
  const fields = describe(key, values.reveal ?? false, ncryptsec);
  if (values.json) ctx.stdout.write(`${JSON.stringify(fields)}\n`);
  else ctx.stdout.write(human(fields, account === 0 ? 'owner (account 0)' : `agent ${account - 1} (account ${account})`));
  return 0;
}

async function show(argv: string[], ctx: CommandContext): Promise<number> {
  const { values } = parse(argv, { mnemonic: { type: 'string' }, passphrase: { type: 'string' } }, false);
  await loadFastCrypto();
  const home = resolveHome(values.home, ctx.env);
  const { seed } = await loadSeed({ home, mnemonic: values.mnemonic, passphrase: values.passphrase }, ctx);
  const owner = describe(deriveFromSeed(seed, 0), false);
  // Lazy: only `keys show` needs the database.
  const { listAgentKeys } = await import('../agents-source.js');
  const agents = (await listAgentKeys(home, ctx.env)).map((agent) => {
    const key = deriveFromSeed(seed, agent.account);
    const fields: Record<string, string | number> = { name: agent.name, ...describe(key, false) };
    if (agent.publicKey && agent.publicKey !== key.publicKey) {
      ctx.stderr.write(`warning: agent "${agent.name}" was created with a different mnemonic or passphrase (stored ${agent.publicKey.slice(0, 12)}…)\n`);
    }
    return fields;
  });
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify({ owner, agents })}\n`);
    return 0;
  }
  ctx.stdout.write(human(owner, 'owner (account 0)'));
  for (const a of agents) ctx.stdout.write(human(a, `agent "${a.name}" (account ${a.account})`));
  if (agents.length === 0) ctx.stdout.write('no agents yet (create one with `agent create <name>`)\n');
  return 0;
}

async function encrypt(argv: string[], ctx: CommandContext): Promise<number> {
  const { values } = parse(argv, {}, false);
  const home = resolveHome(values.home, ctx.env);
  const file = homePaths(home).keys;
  const existing = readKeysFile(file);
  if (existing?.encrypted !== undefined) throw new CliError(`${file} is already encrypted`, 2);
  let mnemonic: string;
  try {
    mnemonic = (await loadMnemonic({ env: ctx.env, home, warn: (m) => ctx.stderr.write(`${m}\n`) })).mnemonic;
  } catch (error) {
    if (error instanceof KeysError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
  let passphrase = ctx.env.AGENT_PASSPHRASE;
  if (passphrase === undefined) {
    passphrase = await askHidden('New passphrase: ');
    if ((await askHidden('Repeat passphrase: ')) !== passphrase) throw new UsageError('the two passphrases differ');
  }
  if (!passphrase) throw new UsageError('the passphrase must not be empty');
  writeKeysFile(file, encryptMnemonic(mnemonic, passphrase));
  ctx.stderr.write(`encrypted ${file}; commands will ask for the passphrase (or read AGENT_PASSPHRASE)\n`);
  return 0;
}

const SUBCOMMANDS: Record<string, (argv: string[], ctx: CommandContext) => Promise<number>> = { generate, derive, show, encrypt };

export const keysCommand: Command = {
  name: 'keys',
  summary: 'generate a mnemonic, derive and show NIP-06 keys, encrypt the keys file',
  usage: USAGE,
  async run(argv, ctx) {
    const [sub, ...rest] = argv;
    if (!sub || sub === '--help' || sub === '-h') {
      ctx.stdout.write(`${USAGE}\n`);
      return sub ? 0 : 2;
    }
    const handler = SUBCOMMANDS[sub];
    if (!handler) throw new UsageError(`unknown subcommand "keys ${sub}" (generate, derive, show, encrypt)`);
    if (rest.includes('--help') || rest.includes('-h')) {
      ctx.stdout.write(`${USAGE}\n`);
      return 0;
    }
    return handler(rest, ctx);
  },
};
