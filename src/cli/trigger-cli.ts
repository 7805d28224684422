/** How `agent watch` and `agent hook` reach an agent: the running daemon's control API, else the home database. */
import { connectControl, type ControlClient } from '../control/client.js';
import type { AgentStorage } from '../storage/types.js';
import { CliError } from './errors.js';
import { hasStorage, openStorage, type HomeContext } from './home-context.js';

/** HTTP statuses (and refusals) that are the user's to fix: exit 2. */
const USER_STATUSES = new Set([400, 404, 409]);

function asCliError(error: unknown): never {
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number') throw new CliError((error as Error).message, USER_STATUSES.has(status) ? 2 : 1, { cause: error });
  throw error;
}

/** Runs `daemon` against the running daemon (so it applies the change at once), else `storage` on the database. */
export async function throughDaemonOrStorage<T>(home: HomeContext, paths: { daemon: (client: ControlClient) => Promise<T>; storage: (storage: AgentStorage) => Promise<T> }): Promise<T> {
  const client = await connectControl(home.home);
  if (client) return paths.daemon(client).catch(asCliError);
  if (!hasStorage(home)) throw new CliError('no agents yet (create one with `agent create <name>`)', 2);
  const storage = await openStorage(home);
  try {
    return await paths.storage(storage);
  } catch (error) {
    return asCliError(error);
  } finally {
    await storage.close();
  }
}
