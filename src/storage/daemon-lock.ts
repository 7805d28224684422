/**
 * SQLite is single-daemon: one daemon per database file (so per home), enforced by an exclusive lock
 * the operating system drops when the process dies. The lock is SQLite's own (a POSIX advisory lock on
 * `<database>-daemon.lock` next to the database file,
 * taken by a write in `locking_mode = EXCLUSIVE` and held until the connection closes), so a daemon
 * killed with SIGKILL leaves no stale lock behind and no pid needs guessing about; a frozen
 * (SIGSTOPped) daemon still holds it, as it should. The holder's pid is also written to
 * `<database>-daemon.pid`, only to name it in the refusal (a stale pid file is never trusted on its own).
 */
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { CodedError } from '../util/errors.js';

/** Another daemon holds the SQLite database: SQLite runs one daemon per database (per home). */
export class DaemonRunningError extends CodedError {
  override name = 'DaemonRunningError';
  constructor(
    readonly file: string,
    readonly holderPid: number | undefined,
    options?: ErrorOptions,
  ) {
    super(
      'DAEMON_RUNNING',
      `another daemon${holderPid ? ` (pid ${holderPid})` : ''} is running on the SQLite database ${file}: SQLite runs one daemon per home; ` +
        'stop that one first, or put the agents in PostgreSQL to run many daemons (README, "Scaling out")',
      { ...options, permanent: true },
    );
  }
}

/** A held daemon lock; `release` closes it (the OS also drops it when the process dies). */
export interface DaemonLock {
  release(): void;
}

interface PidFile {
  pid: number;
  host: string;
  startedAt: number;
}

/** The pid named in the pid file, if that process is alive on this host (else a leftover: not named). */
function holderPid(file: string): number | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<PidFile>;
    if (typeof parsed.pid !== 'number' || !Number.isInteger(parsed.pid) || parsed.pid <= 0 || parsed.host !== hostname()) return undefined;
    process.kill(parsed.pid, 0);
    return parsed.pid;
  } catch {
    return undefined;
  }
}

/** Paths of the lock next to a database file. */
export function daemonLockPaths(file: string): { lock: string; pid: string } {
  return { lock: `${file}-daemon.lock`, pid: `${file}-daemon.pid` };
}

/**
 * Takes the home's daemon lock, or throws DaemonRunningError at once (no waiting) when another
 * process holds it. Two daemons started at the same instant: exactly one gets it.
 */
export function lockDatabaseForDaemon(file: string, now = Date.now()): DaemonLock {
  const paths = daemonLockPaths(file);
  const db = new Database(paths.lock);
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    // The write takes the EXCLUSIVE lock; in exclusive locking mode it is kept after the commit.
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, host TEXT NOT NULL, started_at INTEGER NOT NULL)');
    db.exec('DELETE FROM holder');
    db.prepare('INSERT INTO holder (pid, host, started_at) VALUES (?, ?, ?)').run(process.pid, hostname(), now);
    db.exec('COMMIT');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY' || (error as { code?: string }).code === 'SQLITE_LOCKED') {
      throw new DaemonRunningError(file, holderPid(paths.pid), { cause: error });
    }
    throw error;
  }
  const info: PidFile = { pid: process.pid, host: hostname(), startedAt: now };
  writeFileSync(paths.pid, `${JSON.stringify(info)}\n`, { mode: 0o600 });
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      db.close();
    },
  };
}
