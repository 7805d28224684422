/** Named errors for configuration and keys (CodedErrors); the CLI reports them as one line and exits 2. */
import { CodedError } from '../util/errors.js';

/** A config file is missing a field, has a wrong value, or is not valid JSON. Names file and field. */
export class ConfigError extends CodedError {
  override name = 'ConfigError';
  constructor(message: string, options?: ErrorOptions) {
    super('CONFIG_INVALID', message, { ...options, permanent: true });
  }
}

/** The mnemonic is missing, invalid, or cannot be decrypted. Never carries the mnemonic itself. */
export class KeysError extends CodedError {
  override name = 'KeysError';
  constructor(message: string, options?: ErrorOptions) {
    super('KEYS_INVALID', message, { ...options, permanent: true });
  }
}
