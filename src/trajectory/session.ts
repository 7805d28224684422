/**
 * Sessions: one addressable event (kind 39230, `d` = UTC day `YYYY-MM-DD`) per agent per day that
 * seals the day's tick events with a `trajectory_hash`. A day (not a conversation) because an agent
 * ticks for alarms and watched events too, and a day bounds both the session's size and a verifier's fetch.
 *
 * trajectory_hash, exactly: with id_1 … id_n the session's tick event ids in seq order (lowercase hex),
 *   H_0 = "" (the empty string),  H_k = lowercase-hex( SHA-256( ASCII( H_{k-1} ‖ id_k ) ) ),
 * and trajectory_hash = H_n. A fold rather than one hash over all ids so the runtime carries only
 * H_{k-1} from tick to tick; event ids already commit to content, pubkey, tags and time.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { EventTemplate } from '../protocol/event.js';
import { Kind } from '../protocol/kinds.js';
import type { TrajectorySessionState, TrajectoryVisibility } from './types.js';

const encoder = new TextEncoder();

/** One step of the trajectory_hash fold: H_k from H_{k-1} ("" for the first tick) and id_k. */
export function foldTrajectoryHash(previous: string, tickId: string): string {
  return bytesToHex(sha256(encoder.encode(previous + tickId)));
}

/** trajectory_hash over tick ids in seq order. */
export function trajectoryHash(tickIds: readonly string[]): string {
  return tickIds.reduce(foldTrajectoryHash, '');
}

/** The session id (`d` tag) of a moment: its UTC day. */
export function sessionDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** The NIP-01 address `39230:<agent pubkey>:<day>` that tick events point to with their `a` tag. */
export function sessionAddress(agentPubkey: string, day: string): string {
  return `${Kind.TrajectorySession}:${agentPubkey}:${day}`;
}

/** What a session needs to know about the tick that joins it. */
export interface SessionTick {
  id: string;
  seq: number;
  /** ms since epoch. */
  startedAt: number;
  endedAt: number;
}

/**
 * The session after a tick: continues `current` when the tick falls on the same UTC day, else opens
 * a new one. `createdAt` always moves forward so relays replace the previous version of the event
 * (two versions with one `created_at` would leave relays to keep the lower id, maybe the older one).
 */
export function nextSession(current: TrajectorySessionState | null, tick: SessionTick): TrajectorySessionState {
  const d = sessionDay(tick.startedAt);
  const endedAt = Math.floor(tick.endedAt / 1000);
  if (current && current.d === d) {
    return {
      ...current,
      ticks: current.ticks + 1,
      hash: foldTrajectoryHash(current.hash, tick.id),
      endedAt: Math.max(current.endedAt, endedAt),
      createdAt: Math.max(endedAt, current.createdAt + 1),
    };
  }
  const startedAt = Math.floor(tick.startedAt / 1000);
  return { d, firstSeq: tick.seq, ticks: 1, hash: foldTrajectoryHash('', tick.id), startedAt, endedAt, createdAt: endedAt };
}

/** The session event template for a session state. Content is empty: everything is in tags. */
export function sessionTemplate(session: TrajectorySessionState, visibility: TrajectoryVisibility): EventTemplate {
  return {
    kind: Kind.TrajectorySession,
    created_at: session.createdAt,
    content: '',
    tags: [
      ['d', session.d],
      ['started_at', String(session.startedAt)],
      ['ended_at', String(session.endedAt)],
      ['visibility', visibility],
      ['tick', String(session.ticks)],
      ['seq', String(session.firstSeq), String(session.firstSeq + session.ticks - 1)],
      ['trajectory_hash', session.hash],
    ],
  };
}
