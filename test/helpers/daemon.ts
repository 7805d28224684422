/**
 * Long-running CLI processes for end-to-end tests (`agent up`, `agent run`, `agent relay`): start,
 * wait for a line on stdout, stop with a signal or SIGKILL. Every process is killed in `stopAll`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, type RelayOptions, type RunningRelay } from '../../relay-dev/index.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import type { Signer } from '../../src/signer/types.js';
import { AGENT_BIN } from './cli.js';

/** A throwaway mnemonic (the NIP-06 test vector): owner = account 0. */
export const TEST_MNEMONIC = 'leader monkey parrot ring guide accident before fence cannon height naive bean';

const running = new Set<ChildProcessWithoutNullStreams>();
const homes: string[] = [];
/** Relays and pools opened by a test, closed by `stopAll` (last opened first). */
const closers: Array<() => Promise<void>> = [];

/** relay-dev on a free loopback port (one verify thread at most: several may run at once), closed by `stopAll`. */
export async function startTestRelay(options: RelayOptions = {}): Promise<RunningRelay> {
  const relay = await startRelay({ port: 0, verifyThreads: 0, ...options });
  closers.push(() => relay.close());
  return relay;
}

/** A relay pool on `url` answering AUTH as `signers` (to read their gift wraps), closed by `stopAll`. */
export function testPool(url: string, signers: Signer[] = []): WsRelayPool {
  const pool = new WsRelayPool({ relays: [url], pingIntervalMs: 0 });
  for (const signer of signers) pool.addAuthSigner(signer);
  closers.push(() => pool.close());
  return pool;
}

/** A fresh home directory (removed by `stopAll`), optionally with a config.json. */
export function tempHome(config?: Record<string, unknown>): string {
  const home = mkdtempSync(join(tmpdir(), 'agent-e2e-'));
  homes.push(home);
  if (config) writeFileSync(join(home, 'config.json'), JSON.stringify(config));
  return home;
}

/** A started long-running CLI process. */
export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line matching `re` (rejects on exit or timeout, with the output so far). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/** Starts `agent …args` with `env` (PATH and HOME are passed through). */
export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [AGENT_BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => (running.delete(child), resolve(code))));
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor(re, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const m = out.match(re);
          if (m) {
            cleanup();
            resolve(m);
          }
          return !!m;
        };
        const onExit = (code: number | null): void => {
          cleanup();
          reject(new Error(`process exited (${code}) before ${re}\nstdout:\n${out}\nstderr:\n${err}`));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${re}\nstdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          child.stdout.off('data', check);
          child.off('exit', onExit);
        };
        if (check()) return;
        child.stdout.on('data', check);
        child.on('exit', onExit);
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Kills every process still running, closes test pools and relays, and removes the temp homes. */
export async function stopAll(): Promise<void> {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
  for (const close of closers.splice(0).reverse()) await close();
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 20_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
