/** The named errors of snapshots and restores: each names the agent and the part that failed. */
import { CodedError, type ErrorCode } from '../util/errors.js';

/** The codes a snapshot read can fail with (see ERROR_CODES). */
export type SnapshotErrorCode = Extract<
  ErrorCode,
  'SNAPSHOT_NOT_FOUND' | 'SNAPSHOT_CHUNK_MISSING' | 'SNAPSHOT_BAD_SIGNATURE' | 'SNAPSHOT_WRONG_AUTHOR' | 'SNAPSHOT_TAMPERED' | 'SNAPSHOT_VERSION_UNKNOWN' | 'SNAPSHOT_INVALID'
>;

/**
 * A snapshot (or the registry) that cannot be used as it is on the relays. `agent` is the agent's
 * name (or `registry`), `part` the manifest, a part or a chunk (`facts/2`). Permanent: asking the
 * same relays again gives the same events.
 */
export class SnapshotError extends CodedError {
  override name = 'SnapshotError';
  constructor(
    code: SnapshotErrorCode,
    readonly agent: string,
    readonly part: string,
    detail: string,
    options: ErrorOptions = {},
  ) {
    super(code, `${agent}: snapshot ${part}: ${detail}`, { ...options, permanent: true });
  }
}

/** `agent restore` into a home that already has agents, without --force. */
export class RestoreRefusedError extends CodedError {
  override name = 'RestoreRefusedError';
  constructor(message: string) {
    super('RESTORE_HOME_NOT_EMPTY', message, { permanent: true });
  }
}
