/** `agent create <name>`: a new agent at the next NIP-06 account, through the daemon when it runs. */
import { connectControl } from '../../control/client.js';
import { loadFastCrypto } from '../../protocol/crypto.js';
import { createAgentRecord, summarize } from '../agents.js';
import { parse } from '../args.js';
import { isModuleBehavior, resolveModuleBehavior } from '../behavior-modules.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { defaultRelays, openHome, openStorage } from '../home-context.js';
import { loadSeed } from '../keys-source.js';

const USAGE = 'usage: agent create <name> [--behavior echo|assistant|llm|./module.js] [--relay URL …] [--policy open|allowlist|owner-only] [--json]';

export const createCommand: Command = {
  name: 'create',
  summary: 'create an agent (next NIP-06 account)',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parse(argv, {
      behavior: { type: 'string' },
      relay: { type: 'string', multiple: true },
      policy: { type: 'string' },
      mnemonic: { type: 'string' },
      passphrase: { type: 'string' },
    });
    if (values.help) return ctx.stdout.write(`${USAGE}\n`), 0;
    if (positionals.length !== 1) throw new UsageError(`give exactly one agent name\n${USAGE}`);
    const home = openHome(values.home, ctx.env);
    const behavior = values.behavior ?? 'assistant';
    // A module path is resolved here, against the user's directory, not the daemon's.
    const request = { name: positionals[0] as string, behavior: isModuleBehavior(behavior) ? resolveModuleBehavior(behavior) : behavior, relays: values.relay, dmPolicy: values.policy };
    const client = await connectControl(home.home);
    let summary;
    if (client) {
      summary = await client.create(request);
    } else {
      await loadFastCrypto();
      const { seed } = await loadSeed({ home: home.home, mnemonic: values.mnemonic, passphrase: values.passphrase }, ctx);
      const storage = openStorage(home);
      try {
        summary = summarize(storage, createAgentRecord(storage, seed, request, defaultRelays(home.config), Date.now()), Date.now());
      } finally {
        storage.close();
      }
    }
    if (values.json) {
      const { name, index, account, publicKey, npub, relays } = summary;
      ctx.stdout.write(`${JSON.stringify({ name, index, account, publicKey, npub, relays })}\n`);
    } else {
      ctx.stdout.write(`created agent "${summary.name}" (agent ${summary.index}, account ${summary.account}, behavior ${summary.behavior})\n  npub    ${summary.npub}\n  relays  ${summary.relays.join(' ')}\n`);
      if (!client) ctx.stdout.write('the daemon is not running: start it with `agent run` (or `agent up`)\n');
    }
    return 0;
  },
};
