/**
 * Shared by the daemon benches: a temp agent home pointed at a loopback relay, and `agent run` /
 * `agent relay` as real child processes (ready line awaited, RSS read from /proc, SIGTERM then
 * SIGKILL on stop). Every home and child is registered so `cleanupAll` removes them even when a
 * bench fails midway.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../src/storage/sqlite/database.js';

/** A fixed test mnemonic (never printed); benches need the same keys in every run. */
export const BENCH_MNEMONIC = 'leader monkey parrot ring guide accident before fence cannon height naive bean';
const AGENT_BIN = fileURLToPath(new URL('../../bin/agent.js', import.meta.url));
const homes = new Set<string>();
const children = new Set<CliChild>();
let closing = false;

/** Creates a temp home whose config.json points new agents at `relay` (runtime overrides merged in). */
export function makeHome(prefix: string, relay: string, runtime: Record<string, number> = {}): string {
  const home = mkdtempSync(join(tmpdir(), prefix));
  homes.add(home);
  const config = { relays: [relay], runtime, log: { level: 'warn' } };
  writeFileSync(join(home, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return home;
}

/** One `agent …` child process. */
export interface CliChild {
  pid: number;
  /** ms from spawn to its ready line. */
  readyMs: number;
  /** Its stdout up to and including the ready line. */
  output: string;
  /** The inspector's ws:// URL when started with `--inspect=127.0.0.1:0`. */
  inspector?: string;
  stop(): Promise<void>;
}

/** Spawns `node bin/agent.js …args` and resolves once stdout contains `readyText` (rejects with its stderr tail otherwise). */
export async function spawnCli(args: string[], readyText: string, options: { env?: NodeJS.ProcessEnv; nodeArgs?: string[]; timeoutMs?: number; stopTimeoutMs?: number } = {}): Promise<CliChild> {
  if (closing) throw new Error('the bench is shutting down');
  const t0 = performance.now();
  const timeoutMs = options.timeoutMs ?? 120_000;
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [...(options.nodeArgs ?? []), AGENT_BIN, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
    handle.inspector ??= /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    children.delete(handle);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    // SIGKILL only past this: a daemon with thousands of agents writes every agent's final snapshot first.
    const killer = setTimeout(() => child.kill('SIGKILL'), options.stopTimeoutMs ?? 15_000);
    await exited;
    clearTimeout(killer);
  };
  const handle: CliChild = { pid: child.pid ?? -1, readyMs: 0, output: '', stop };
  children.add(handle);
  const what = `agent ${args[0] ?? ''}`;
  try {
    handle.output = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${what}: no "${readyText}" within ${timeoutMs} ms; stderr: ${stderr.trim()}`)), timeoutMs);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes(readyText)) {
          clearTimeout(timer);
          resolve(out);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${what} exited (${code ?? signal}) before it was ready; stderr: ${stderr.trim()}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  handle.readyMs = performance.now() - t0;
  return handle;
}

/**
 * `agent run --home H` (the daemon), resolved on its `daemon ready` line; `inspect` opens a loopback
 * inspector port; `database` is a database URL for `--database` (default: the home's SQLite file).
 */
export function startDaemonChild(home: string, options: { inspect?: boolean; database?: string; timeoutMs?: number; stopTimeoutMs?: number } = {}): Promise<CliChild> {
  return spawnCli(['run', '--home', home, '--log-level', 'warn', ...(options.database ? ['--database', options.database] : [])], 'daemon ready', {
    timeoutMs: options.timeoutMs,
    stopTimeoutMs: options.stopTimeoutMs,
    env: { AGENT_MNEMONIC: BENCH_MNEMONIC, AGENT_HOME: home },
    // BENCH_DAEMON_NODE_FLAGS: node flags for the daemon child, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
    nodeArgs: [...(options.inspect ? ['--inspect=127.0.0.1:0'] : []), ...(process.env.BENCH_DAEMON_NODE_FLAGS ?? '').split(' ').filter(Boolean)],
  });
}

/** `agent relay` (relay-dev) on a free loopback port, events in memory, no per-connection rate limit. */
export async function startRelayChild(): Promise<CliChild & { url: string }> {
  const child = await spawnCli(['relay', '--host', '127.0.0.1', '--port', '0', '--memory', '--rate', '0', '--json'], '}');
  const url = (JSON.parse(child.output.trim().split('\n')[0] ?? '{}') as { url?: string }).url;
  if (!url) {
    await child.stop();
    throw new Error(`agent relay printed no URL: ${child.output.trim()}`);
  }
  return { ...child, url };
}

/** Resident memory of a process in KiB, from /proc/<pid>/status: VmRSS, and its anonymous part RssAnon. */
export function rssOf(pid: number): { rssKiB: number; anonKiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKiB: field('VmRSS'), anonKiB: field('RssAnon') };
}

/** CPU seconds (user + system, every thread) a process has used so far, from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds of a process and of its children alive now (a PostgreSQL postmaster and its backends). */
export function cpuSecondsOfTree(pid: number): number {
  let total = cpuSecondsOf(pid);
  let children: string[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    // Gone, or a kernel without the children file: the process's own time only.
  }
  for (const child of children) {
    try {
      total += cpuSecondsOfTree(Number(child));
    } catch {
      // The child exited between the listing and the read.
    }
  }
  return total;
}

/** Linux's USER_HZ: /proc times are in hundredths of a second on every architecture Node runs on. */
const CLOCK_TICKS = 100;

/** Polls `condition` until it holds or the deadline passes (then throws naming `what`). */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Waits until none of the `n` agents in the SQLite file `dbFile` is creating or awake and the outbox has nothing pending. */
export async function waitAgentsDormant(dbFile: string, n: number): Promise<void> {
  const db = openDatabase(dbFile, { readonly: true });
  try {
    const awake = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM agents WHERE state <> 'dormant'");
    const pending = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM outbox WHERE status = 'pending'");
    await waitFor(`${n} agents dormant and the outbox drained`, () => awake.get()?.n === 0 && pending.get()?.n === 0, 120_000 + n * 200, 200);
  } finally {
    db.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Percentile by nearest rank over a copy of `values`. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
}

export function median(values: number[]): number {
  return percentile(values, 0.5);
}

export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Progress for humans, on stderr (stdout carries only JSON lines). */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** Stops every child still running and removes every temp home. */
export async function cleanupAll(): Promise<void> {
  closing = true;
  while (children.size > 0) await Promise.allSettled([...children].map((c) => c.stop()));
  for (const home of homes) rmSync(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  homes.clear();
}

/** Runs `main`, always cleaning up; a failure becomes one JSON line and exit code 1. SIGINT/SIGTERM clean up too. */
export async function runBench(name: string, main: () => Promise<void>): Promise<void> {
  const onSignal = (signal: NodeJS.Signals): void => {
    void cleanupAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await main();
  } catch (error) {
    console.log(JSON.stringify({ bench: name, error: (error as Error).message }));
    process.exitCode = 1;
  } finally {
    await cleanupAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
