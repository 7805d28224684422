/**
 * Reaping a stdio server's process tree. The SDK's transport stops the process it spawned, but a
 * server started through a wrapper (`npx …`, `sh -c …`, `uvx …`) leaves grandchildren behind when
 * only its direct child dies. So the tree is read (from /proc on Linux, `ps` elsewhere) while the
 * server still runs, and whatever of it is still alive after the transport closed is signalled.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** `pid` and every process below it, parents first (empty when it is gone). */
export function processTree(pid: number): number[] {
  const parents = parentMap();
  if (!parents) return isAlive(pid) ? [pid] : [];
  const children = new Map<number, number[]>();
  for (const [child, parent] of parents) children.set(parent, [...(children.get(parent) ?? []), child]);
  const out: number[] = [];
  const queue = parents.has(pid) ? [pid] : [];
  while (queue.length > 0 && out.length < 1000) {
    const next = queue.shift()!;
    out.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return out;
}

/** True while `pid` exists (and is not a zombie we can see). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie has exited: only its parent's wait is missing.
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Sends `signal` to each pid still alive; never throws. */
export function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      if (isAlive(pid)) process.kill(pid, signal);
    } catch {
      // gone already, or not ours
    }
  }
}

/** SIGTERM the tree, then SIGKILL what is left after `graceMs`; resolves when all are gone (or after 2 × graceMs). */
export async function reapTree(pids: readonly number[], graceMs = 1000): Promise<void> {
  const alive = (): number[] => pids.filter(isAlive);
  if (alive().length === 0) return;
  signalAll(pids, 'SIGTERM');
  const deadline = Date.now() + 2 * graceMs;
  let killed = false;
  while (alive().length > 0 && Date.now() < deadline) {
    if (!killed && Date.now() >= deadline - graceMs) {
      signalAll(pids, 'SIGKILL');
      killed = true;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  if (!killed) signalAll(pids, 'SIGKILL');
}

/** child pid → parent pid for every process, or undefined when neither /proc nor ps can tell. */
function parentMap(): Map<number, number> | undefined {
  const map = new Map<number, number>();
  try {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // A zombie has exited already (only its parent's wait is missing): nothing to reap.
        if (state !== 'Z' && Number.isInteger(Number(ppid))) map.set(Number(name), Number(ppid));
      } catch {
        // exited while we read
      }
    }
    if (map.size > 0) return map;
  } catch {
    // no /proc: fall back to ps
  }
  try {
    const out = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8', timeout: 5000 });
    for (const line of out.split('\n')) {
      const [pid, ppid] = line.trim().split(/\s+/).map(Number);
      if (Number.isInteger(pid) && Number.isInteger(ppid)) map.set(pid!, ppid!);
    }
    return map.size > 0 ? map : undefined;
  } catch {
    return undefined;
  }
}
