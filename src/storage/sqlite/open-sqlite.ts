/** Opening the SQLite engine from a URL's file, with failures as one-line DatabaseOpenErrors. */
import { CodedError } from '../../util/errors.js';
import { DatabaseOpenError } from '../errors.js';
import type { OpenStorageOptions } from '../open.js';
import type { AgentStorage } from '../types.js';
import { SqliteAgentStorage } from './sqlite-agent-storage.js';

/** Opens `file` (`:memory:` for a throwaway database); migrates unless read-only. */
export async function openSqliteStorage(file: string, options: OpenStorageOptions = {}): Promise<AgentStorage> {
  try {
    const logger = options.logger;
    return SqliteAgentStorage.open(file, {
      ...options,
      ...(logger ? { onCheckpointError: (message: string) => logger.log({ level: 'warn', ns: 'storage', msg: 'WAL checkpoints back on the writer', error: message }) } : {}),
    });
  } catch (error) {
    if (error instanceof CodedError) throw error;
    throw new DatabaseOpenError('DATABASE_UNAVAILABLE', `database sqlite:${file} cannot be opened: ${(error as Error).message}`, { cause: error });
  }
}
