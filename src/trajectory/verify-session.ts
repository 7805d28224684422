/**
 * The session checks of verify: each session event (the newest version per day) seals seqs
 * first…first+tick−1 of that day, and those ticks, hashed in seq order, give its trajectory_hash.
 * Ticks after the newest session's range are `unsealed` (the session event is still on its way).
 */
import { tagValue, type NostrEvent } from '../protocol/event.js';
import type { TickHeader } from './decode.js';
import { sessionAddress, trajectoryHash } from './session.js';
import type { TrajectoryBreak } from './types.js';

const INT = /^[1-9]\d{0,14}$/;
const HEX32 = /^[0-9a-f]{64}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Session breaks, and how many ticks no session seals yet. */
export function checkSessions(ticks: readonly TickHeader[], sessions: readonly NostrEvent[], agent: string): { breaks: TrajectoryBreak[]; unsealed: number } {
  const breaks: TrajectoryBreak[] = [];
  let unsealed = 0;
  const newest = new Map<string, NostrEvent>();
  for (const session of sessions) {
    const d = tagValue(session, 'd') ?? '';
    const seen = newest.get(d);
    if (!seen || session.created_at > seen.created_at || (session.created_at === seen.created_at && session.id < seen.id)) newest.set(d, session);
  }
  const byDay = new Map<string, TickHeader[]>();
  for (const tick of ticks) byDay.set(tick.day, [...(byDay.get(tick.day) ?? []), tick]);

  for (const [day, dayTicks] of byDay) {
    dayTicks.sort((a, b) => a.seq - b.seq);
    const seqs = `${dayTicks[0]!.seq}–${dayTicks[dayTicks.length - 1]!.seq}`;
    const session = newest.get(day);
    const where = `session ${sessionAddress(agent, day)}`;
    if (!session) {
      breaks.push({ kind: 'session', seq: dayTicks[0]!.seq, message: `${where} was not found, so nothing seals ticks seq ${seqs} of ${day}` });
      continue;
    }
    const count = tagValue(session, 'tick') ?? '';
    const range = session.tags.find((t) => t[0] === 'seq');
    const hash = tagValue(session, 'trajectory_hash') ?? '';
    if (!DAY.test(day) || !INT.test(count) || !range || !INT.test(range[1] ?? '') || !INT.test(range[2] ?? '') || !HEX32.test(hash)) {
      breaks.push({ kind: 'session', eventId: session.id, seq: dayTicks[0]!.seq, message: `${where} (event ${session.id}) is malformed: it needs tick, seq <first> <last> and trajectory_hash tags` });
      continue;
    }
    const first = Number(range[1]);
    const last = first + Number(count) - 1;
    if (Number(range[2]) !== last) {
      breaks.push({ kind: 'session', eventId: session.id, seq: first, message: `${where} says ${count} ticks but seq ${range[1]}–${range[2]}` });
      continue;
    }
    const before = dayTicks.filter((t) => t.seq < first);
    if (before.length > 0) {
      breaks.push({ kind: 'session', eventId: before[0]!.id, seq: before[0]!.seq, message: `tick seq ${before.map((t) => t.seq).join(', ')} point to ${where}, which starts at seq ${first}` });
    }
    const covered = dayTicks.filter((t) => t.seq >= first && t.seq <= last);
    unsealed += dayTicks.filter((t) => t.seq > last).length;
    const present = new Set(covered.map((t) => t.seq));
    const absent: number[] = [];
    for (let seq = first; seq <= last && absent.length < 20; seq++) if (!present.has(seq)) absent.push(seq);
    if (absent.length > 0) {
      breaks.push({
        kind: 'missing',
        eventId: session.id,
        seq: absent[0],
        message: `${where} seals ${count} ticks (seq ${first}–${last}) but only ${present.size} were found: seq ${absent.join(', ')} missing`,
      });
      continue;
    }
    const computed = trajectoryHash(covered.map((t) => t.id));
    if (computed !== hash) {
      breaks.push({
        kind: 'hash',
        eventId: session.id,
        seq: first,
        message: `${where} has trajectory_hash ${hash}, but its ticks seq ${first}–${last} as found hash to ${computed}: a tick was replaced, added or reordered`,
      });
    }
  }
  for (const [day, session] of newest) {
    if (!byDay.has(day)) {
      breaks.push({ kind: 'missing', eventId: session.id, message: `${`session ${sessionAddress(agent, day)}`} seals ${tagValue(session, 'tick') ?? '?'} ticks but none of them was found` });
    }
  }
  return { breaks, unsealed };
}
