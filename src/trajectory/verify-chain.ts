/**
 * The chain checks of verify: every `prev` resolves, nothing forks, there is one first tick, and
 * seq goes up by exactly one along the chain. Input is the agent's tick headers (signature-checked
 * or already reported), output the breaks and the chain in order as far as it is unambiguous.
 */
import type { TickHeader } from './decode.js';
import type { TrajectoryBreak } from './types.js';

/** Chain breaks, and the ticks in chain order starting from the first tick. */
export function checkChain(ticks: readonly TickHeader[]): { breaks: TrajectoryBreak[]; ordered: TickHeader[] } {
  const breaks: TrajectoryBreak[] = [];
  const byId = new Map(ticks.map((t) => [t.id, t]));
  const children = new Map<string, TickHeader[]>();
  const roots: TickHeader[] = [];
  for (const tick of ticks) {
    if (tick.prev === null) roots.push(tick);
    else children.set(tick.prev, [...(children.get(tick.prev) ?? []), tick]);
  }

  for (const [prev, next] of children) {
    const first = next[0]!;
    if (!byId.has(prev)) {
      const seqs = next.map((t) => t.seq).join(', ');
      breaks.push({
        kind: 'missing',
        seq: first.seq - 1,
        eventId: prev,
        message: `seq ${first.seq - 1} is missing: tick seq ${seqs} (${next.map((t) => t.id).join(', ')}) follows tick ${prev}, which was not found`,
      });
    }
    if (next.length > 1) {
      const parent = byId.get(prev);
      breaks.push({
        kind: 'fork',
        seq: first.seq,
        eventId: first.id,
        message: `the chain forks after ${parent ? `seq ${parent.seq}` : 'a missing tick'} (${prev}): ${next.length} tick events follow it: ${next.map((t) => `seq ${t.seq} ${t.id}`).join(', ')}`,
      });
    }
  }

  if (roots.length > 1) {
    breaks.push({ kind: 'fork', seq: 1, message: `the chain has ${roots.length} first ticks (no prev): ${roots.map((t) => `seq ${t.seq} ${t.id}`).join(', ')}` });
  }
  for (const root of roots) {
    if (root.seq !== 1) breaks.push({ kind: 'seq', seq: root.seq, eventId: root.id, message: `tick ${root.id} has no prev, so it is the first tick, but its seq is ${root.seq}, not 1` });
  }
  if (ticks.length > 0 && roots.length === 0 && !breaks.some((b) => b.kind === 'missing')) {
    breaks.push({ kind: 'missing', seq: 1, message: 'the first tick (seq 1, without prev) was not found: the chain loops' });
  }

  for (const tick of ticks) {
    const parent = tick.prev === null ? undefined : byId.get(tick.prev);
    if (!parent || tick.seq === parent.seq + 1) continue;
    const how = tick.seq <= parent.seq ? 'seq goes backwards (reordered)' : `seq jumps by ${tick.seq - parent.seq} (seq ${parent.seq + 1}–${tick.seq - 1} skipped)`;
    breaks.push({ kind: 'seq', seq: tick.seq, eventId: tick.id, message: `tick ${tick.id} has seq ${tick.seq} but follows seq ${parent.seq} (${parent.id}): ${how}; seq must increase by one along the chain` });
  }

  const bySeq = new Map<number, TickHeader[]>();
  for (const tick of ticks) bySeq.set(tick.seq, [...(bySeq.get(tick.seq) ?? []), tick]);
  for (const [seq, same] of bySeq) {
    const forked = same.every((t) => t.prev !== null && same[0]!.prev === t.prev);
    if (same.length > 1 && !forked) {
      breaks.push({ kind: 'seq', seq, eventId: same[1]!.id, message: `seq ${seq} is used by ${same.length} tick events: ${same.map((t) => t.id).join(', ')}` });
    }
  }

  const ordered: TickHeader[] = [];
  const seen = new Set<string>();
  let at = roots.length === 1 ? roots[0] : undefined;
  while (at && !seen.has(at.id)) {
    ordered.push(at);
    seen.add(at.id);
    const next = children.get(at.id);
    at = next && next.length === 1 ? next[0] : undefined;
  }
  return { breaks, ordered };
}
