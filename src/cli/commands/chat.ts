/**
 * `agent chat [<agent>]`: the terminal UI. Composes what the UI needs and nothing more: the
 * daemon's control client (agents, activity, ticks) and the owner's side of the NIP-17
 * conversation (src/cli/owner-chat.ts). React and Ink are imported here, lazily, and nowhere else,
 * so every other command starts without them.
 */
import { connectControl } from '../../control/client.js';
import type { AgentSummary, DaemonOverview } from '../../control/types.js';
import { loadFastCrypto } from '../../protocol/crypto.js';
import { deriveFromSeed } from '../../protocol/nip06.js';
import { SecretKeySigner } from '../../signer/secret-key-signer.js';
import { homeControl } from '../../tui/control-source.js';
import { daemonDownLines } from '../../tui/daemon-down.js';
import { colorsWanted } from '../../tui/terminal.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { openHome } from '../home-context.js';
import { loadSeed } from '../keys-source.js';

const USAGE = `usage: agent chat [<agent>] [--home DIR]
Chat with your agents over NIP-17 DMs signed by the owner key, in a terminal UI.
<agent> is a name, npub or hex public key (default: the first agent). Needs a running daemon
(\`agent up\` or \`agent run\`) and an interactive terminal. Colors follow NO_COLOR.
Keys: Tab switch pane · ↑/↓ select agent · Enter send · Ctrl+T trajectory · Ctrl+C quit`;

/** The agent `ref` names in the overview, or a UsageError listing the ones there are. */
function pickAgent(overview: DaemonOverview, ref: string | undefined): AgentSummary | undefined {
  if (ref === undefined) return undefined;
  const found = overview.agents.find((a) => a.name === ref || a.npub === ref || a.publicKey === ref.toLowerCase());
  if (found) return found;
  const names = overview.agents.map((a) => a.name).join(', ') || 'none yet';
  throw new CliError(`no agent named "${ref}" (agents: ${names})`, 2, { code: 'AGENT_NOT_FOUND' });
}

/** Every relay where replies to the owner can arrive: the agents' relays and the daemon's. */
function listenRelays(overview: DaemonOverview): string[] {
  return [...new Set([...overview.agents.flatMap((a) => a.relays), ...overview.relays.map((r) => r.url)])];
}

export const chatCommand: Command = {
  name: 'chat',
  summary: 'the terminal UI: talk to your agents over NIP-17 DMs, watch their ticks',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parse(argv, { mnemonic: { type: 'string' }, passphrase: { type: 'string' } });
    if (values.help) return ctx.stdout.write(`${USAGE}\n`), 0;
    if (positionals.length > 1) throw new UsageError(`agent chat takes at most one agent, got ${positionals.length} (usage: agent chat [<agent>] [--home DIR])`);
    const home = openHome(values.home, ctx.env, values.database);

    const client = await connectControl(home.home);
    if (!client) {
      ctx.stderr.write(`${daemonDownLines(home.home).join('\n')}\n`);
      return 1;
    }
    const overview = await client.overview();
    const agent = pickAgent(overview, positionals[0]);
    const stdin = process.stdin;
    const stdout = ctx.stdout as NodeJS.WriteStream;
    if (!stdin.isTTY || !stdout.isTTY) {
      throw new CliError('agent chat needs an interactive terminal (stdin and stdout must be a TTY); in scripts use `agent send <agent> "<text>"`', 2);
    }

    await loadFastCrypto();
    const { seed } = await loadSeed({ home: home.home, mnemonic: values.mnemonic, passphrase: values.passphrase }, ctx);
    const owner = new SecretKeySigner(deriveFromSeed(seed, 0).secretKey);
    const { createOwnerChat } = await import('../owner-chat.js');
    const transport = await createOwnerChat({ owner, relays: listenRelays(overview), databaseUrl: home.databaseUrl });

    const color = colorsWanted(ctx.env);
    // Ink's color library reads the environment when it is first imported: decide before that.
    if (!color) process.env.FORCE_COLOR = '0';
    try {
      const { runChat } = await import('../../tui/run.js');
      await runChat(
        { control: homeControl(home.home, client), transport, initialAgent: agent?.publicKey, initialOverview: overview, home: home.home, color },
        { stdin, stdout, stderr: ctx.stderr as NodeJS.WriteStream },
      );
    } finally {
      await transport.close();
    }
    return 0;
  },
};
