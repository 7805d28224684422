/** Named errors for configuration and keys; the CLI reports them as one line and exits 2. */

/** A config file is missing a field, has a wrong value, or is not valid JSON. Names file and field. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The mnemonic is missing, invalid, or cannot be decrypted. Never carries the mnemonic itself. */
export class KeysError extends Error {
  override name = 'KeysError';
}
