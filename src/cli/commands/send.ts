/** `agent send <name> "<text>"`: a NIP-17 DM from the owner key, and the agent's reply when it comes. */
import { loadFastCrypto } from '../../protocol/crypto.js';
import { deriveFromSeed } from '../../protocol/nip06.js';
import { SecretKeySigner } from '../../signer/secret-key-signer.js';
import { summarize } from '../agents.js';
import { parse, parsePositive } from '../args.js';
import type { Command } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { hasStorage, openHome, openStorage } from '../home-context.js';
import { loadSeed } from '../keys-source.js';
import { OwnerChat } from '../owner-chat.js';

const USAGE = 'usage: agent send <name> "<text>" [--timeout S] [--json]';

export const sendCommand: Command = {
  name: 'send',
  summary: 'send an agent a NIP-17 DM from the owner key and print its reply',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parse(argv, { timeout: { type: 'string' }, mnemonic: { type: 'string' }, passphrase: { type: 'string' } });
    if (values.help) return ctx.stdout.write(`${USAGE}\n`), 0;
    if (positionals.length !== 2) throw new UsageError(USAGE);
    const [name, text] = positionals as [string, string];
    if (!text.trim()) throw new UsageError('the message is empty');
    const timeoutMs = parsePositive(values.timeout ?? '30', '--timeout') * 1000;
    const home = openHome(values.home, ctx.env, values.database);
    if (!hasStorage(home)) throw new CliError(`no agents in ${home.home} (create one with \`agent create\`, or run \`agent up\`)`, 2);
    const storage = await openStorage(home);
    let agent;
    try {
      const record = await storage.agents.get(name);
      if (!record) throw new CliError(`no agent named "${name}"`, 2, { code: 'AGENT_NOT_FOUND' });
      agent = await summarize(storage, record, Date.now());
    } finally {
      await storage.close();
    }
    await loadFastCrypto();
    const { seed } = await loadSeed({ home: home.home, mnemonic: values.mnemonic, passphrase: values.passphrase }, ctx);
    const owner = new SecretKeySigner(deriveFromSeed(seed, 0).secretKey);
    const chat = new OwnerChat({ owner, relays: agent.relays });
    try {
      const started = Date.now();
      const sent = await chat.send(agent, text);
      const reply = await chat.waitForReply(agent.publicKey, sent.id, timeoutMs);
      if (!reply) {
        if (values.json) ctx.stdout.write(`${JSON.stringify({ agent: name, sent: sent.id, accepted: sent.accepted, reply: null })}\n`);
        throw new CliError(`no reply from "${name}" within ${timeoutMs / 1000} s (is the daemon running? start it with \`agent up\` or \`agent run\`)`, 1, { code: 'REPLY_TIMEOUT' });
      }
      if (values.json) {
        ctx.stdout.write(`${JSON.stringify({ agent: name, sent: sent.id, accepted: sent.accepted, reply: reply.text, replyId: reply.id, ms: Date.now() - started })}\n`);
      } else ctx.stdout.write(`${reply.text}\n`);
      return 0;
    } finally {
      await chat.close();
    }
  },
};
