/**
 * A full garbage collection, asked for by the daemon after a burst of start-up work.
 *
 * Why: V8 does not collect its old generation until that reaches its initial limit, and a start of
 * 10,000 agents (the split-brain check's relay reads, then the start claims: a snapshot built,
 * encrypted and queued per agent) promotes its short-lived objects there faster than that: the
 * daemon's resident memory peaked at 260–274 MiB before the first full collection, against 134 MiB
 * for a daemon with no agent. The malloc memory V8's own threads use for that heap (slot sets, marking
 * worklists) stays in glibc's arenas after it is freed (see docs/performance.md, "Memory at 10,000
 * dormant agents"). Collecting after every 1,000 claims kept the peak at 202–221 MiB.
 *
 * Node 20 has no API for it without `--expose-gc`: the flag is set at run time and `gc` taken from a
 * fresh context (as jest's leak detector does). If either is refused, collecting is a no-op: V8
 * then collects when it would have anyway.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null | undefined;

function load(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    return typeof fn === 'function' ? (fn as () => void) : null;
  } catch {
    return null;
  }
}

/** Collects the whole heap now (a pause of tens of ms with a large heap); false when it cannot. */
export function collectGarbage(): boolean {
  if (gc === undefined) gc = load();
  if (!gc) return false;
  gc();
  return true;
}
