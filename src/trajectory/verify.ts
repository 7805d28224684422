/**
 * Verifies an agent's trajectory from whatever events were fetched (relays or the local store):
 * signatures, authorship, tags, content (decrypted with the owner's key), the prev chain, seq
 * continuity and every session's tick count and trajectory_hash. Nothing is trusted and nothing
 * throws: each problem becomes a break that says where (seq, event id) and how.
 */
import { verifyEvent } from '../protocol/crypto.js';
import { getEventHash, tagValue, type NostrEvent } from '../protocol/event.js';
import { Kind } from '../protocol/kinds.js';
import type { Signer } from '../signer/types.js';
import { readTickContent, readTickHeader, type DecodedTick, type TickHeader } from './decode.js';
import type { TrajectoryBreak, VerifyReport } from './types.js';
import { checkChain } from './verify-chain.js';
import { checkSessions } from './verify-session.js';

/** Who the trajectory belongs to, and who may read it. */
export interface VerifyOptions {
  agentPubkey: string;
  /** The owner's signer, to decrypt private ticks; without it private content is counted as `locked`. */
  owner?: Pick<Signer, 'nip44'>;
}

/** The report and the ticks read (in seq order), for printing. */
export interface VerifyResult {
  report: VerifyReport;
  ticks: DecodedTick[];
}

const seqOf = (event: NostrEvent): number | undefined => {
  const seq = Number(tagValue(event, 'seq'));
  return Number.isSafeInteger(seq) ? seq : undefined;
};
const where = (event: NostrEvent): string => {
  const seq = seqOf(event);
  const what = event.kind === Kind.TrajectorySession ? `session event ${event.id} (d ${tagValue(event, 'd') ?? '?'})` : `tick event ${event.id}`;
  return seq === undefined || event.kind === Kind.TrajectorySession ? what : `${what} (seq ${seq})`;
};

/** Verifies the trajectory in `events` (other kinds and duplicates are ignored). */
export function verifyTrajectory(events: readonly NostrEvent[], options: VerifyOptions): VerifyResult {
  const agent = options.agentPubkey;
  const breaks: TrajectoryBreak[] = [];
  const ticks: DecodedTick[] = [];
  const sessions: NostrEvent[] = [];
  let locked = 0;

  for (const event of dedupe(events)) {
    if (event.kind !== Kind.TrajectoryTick && event.kind !== Kind.TrajectorySession) continue;
    const valid = verifyEvent(event);
    const mark = { seq: event.kind === Kind.TrajectoryTick ? seqOf(event) : undefined, eventId: event.id };
    if (!valid) {
      const tampered = getEventHash(event) !== event.id;
      breaks.push({
        kind: tampered ? 'tampered' : 'signature',
        ...mark,
        message: tampered ? `${where(event)} was changed after signing: its id does not match its content and tags` : `${where(event)} has an invalid signature`,
      });
    } else if (event.pubkey !== agent) {
      breaks.push({ kind: 'forged', ...mark, message: `${where(event)} claims to be in this agent's trajectory but is signed by ${event.pubkey}, not by the agent ${agent}` });
      continue;
    }
    if (event.pubkey !== agent) continue;
    if (event.kind === Kind.TrajectorySession) {
      if (valid) sessions.push(event);
      continue;
    }
    const read = readTickHeader(event);
    if ('problem' in read) {
      breaks.push({ kind: 'tags', ...mark, message: `${where(event)} is malformed: ${read.problem}` });
      continue;
    }
    // A tampered tick stays in the chain by its claimed id, so one edit is reported once, not also as a gap.
    const tick: DecodedTick = { ...read.header };
    ticks.push(tick);
    if (!valid) continue;
    const body = readTickContent(event, read.header.visibility, options.owner);
    if ('content' in body) tick.content = body.content;
    else if ('locked' in body) locked++;
    else breaks.push({ kind: 'content', ...mark, message: `${where(event)}: ${body.problem}` });
  }

  const chain = checkChain(ticks);
  breaks.push(...chain.breaks);
  const sealed = checkSessions(ticks, sessions, agent);
  breaks.push(...sealed.breaks);
  ticks.sort((a, b) => a.seq - b.seq || (a.id < b.id ? -1 : 1));
  breaks.sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity));
  const sessionCount = new Set(sessions.map((s) => tagValue(s, 'd'))).size;
  if (breaks.length > 0) return { report: { ok: false, ticks: ticks.length, sessions: sessionCount, breaks }, ticks };
  const head: TickHeader | undefined = chain.ordered[chain.ordered.length - 1];
  return {
    report: { ok: true, ticks: ticks.length, sessions: sessionCount, headId: head?.id ?? null, unsealed: sealed.unsealed, locked },
    ticks,
  };
}

/** One event per id; when copies differ (one relay serves an edited copy), the copy that verifies wins. */
function dedupe(events: readonly NostrEvent[]): NostrEvent[] {
  const byId = new Map<string, NostrEvent>();
  for (const event of events) {
    const seen = byId.get(event.id);
    if (!seen || (!verifyEvent(seen) && verifyEvent(event))) byId.set(event.id, event);
  }
  return [...byId.values()];
}
