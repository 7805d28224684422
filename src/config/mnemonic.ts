/**
 * Where the owner's mnemonic comes from, in order: `--mnemonic`, `AGENT_MNEMONIC`, the home's keys
 * file (asking for the passphrase when it is encrypted). One function so every command agrees.
 */
import { mnemonicProblem, normalizeMnemonic } from '../protocol/nip06.js';
import { KeysError } from './errors.js';
import { homePaths } from './home.js';
import { decryptMnemonic, isTooOpen, readKeysFile } from './keys-file.js';

/** Inputs to `loadMnemonic`. `askPassphrase` is called only for an encrypted keys file. */
export interface MnemonicSources {
  flag?: string;
  env: NodeJS.ProcessEnv;
  home: string;
  askPassphrase?: (prompt: string) => Promise<string>;
  warn?: (message: string) => void;
}

/** The mnemonic and where it came from (`flag`, `env` or the keys file path). */
export interface LoadedMnemonic {
  mnemonic: string;
  source: string;
}

function checked(mnemonic: string, where: string): string {
  const problem = mnemonicProblem(mnemonic);
  if (problem) throw new KeysError(`invalid mnemonic from ${where}: ${problem}`);
  return normalizeMnemonic(mnemonic);
}

/** Loads the owner mnemonic, or throws a KeysError that says what to do. */
export async function loadMnemonic(sources: MnemonicSources): Promise<LoadedMnemonic> {
  if (sources.flag !== undefined) return { mnemonic: checked(sources.flag, '--mnemonic'), source: 'flag' };
  const fromEnv = sources.env.AGENT_MNEMONIC;
  if (fromEnv) return { mnemonic: checked(fromEnv, 'AGENT_MNEMONIC'), source: 'env' };
  const file = homePaths(sources.home).keys;
  const keys = readKeysFile(file);
  if (!keys) {
    throw new KeysError(
      `no mnemonic: pass --mnemonic, set AGENT_MNEMONIC, or create ${file} (\`agent keys generate --save\`, format in keys.example)`,
    );
  }
  if (isTooOpen(file)) sources.warn?.(`warning: ${file} is readable by other users; run: chmod 600 ${file}`);
  if (keys.mnemonic !== undefined) return { mnemonic: keys.mnemonic, source: file };
  let passphrase = sources.env.AGENT_PASSPHRASE;
  if (passphrase === undefined) {
    if (!sources.askPassphrase) throw new KeysError(`${file} is encrypted: set AGENT_PASSPHRASE or run in a terminal to be asked`);
    passphrase = await sources.askPassphrase(`Passphrase for ${file}: `);
  }
  return { mnemonic: decryptMnemonic(keys.encrypted, passphrase, file), source: file };
}
