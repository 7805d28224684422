/** Shared by every command that needs the owner's keys: mnemonic → seed, with errors mapped to exit 2. */
import { KeysError } from '../config/errors.js';
import { loadMnemonic } from '../config/mnemonic.js';
import { mnemonicToSeed } from '../protocol/nip06.js';
import type { CommandContext } from './command.js';
import { UsageError } from './errors.js';
import { askHidden } from './prompt.js';

/** Options for loading the owner seed. `passphrase` is the optional BIP-39 passphrase. */
export interface SeedOptions {
  home: string;
  mnemonic?: string;
  passphrase?: string;
}

/** Loads the mnemonic (flag, env, keys file) and computes the BIP-39 seed once. */
export async function loadSeed(options: SeedOptions, ctx: CommandContext): Promise<{ seed: Uint8Array; source: string }> {
  try {
    const loaded = await loadMnemonic({
      flag: options.mnemonic,
      env: ctx.env,
      home: options.home,
      askPassphrase: (prompt) => askHidden(prompt),
      warn: (message) => ctx.stderr.write(`${message}\n`),
    });
    const bip39Passphrase = options.passphrase ?? ctx.env.AGENT_BIP39_PASSPHRASE ?? '';
    return { seed: mnemonicToSeed(loaded.mnemonic, bip39Passphrase), source: loaded.source };
  } catch (error) {
    if (error instanceof KeysError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}
