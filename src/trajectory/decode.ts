/**
 * Reading a tick event back: its chain tags, and its content (decrypted with the owner's key when
 * private) checked against the wire schema. Events come from relays, so nothing here throws:
 * a bad event yields a reason the verifier can print.
 */
import { z } from 'zod';
import { tagValue, type NostrEvent } from '../protocol/event.js';
import { Kind } from '../protocol/kinds.js';
import type { Signer } from '../signer/types.js';
import { TickContentSchema, type TickContent } from './schema.js';
import type { TrajectoryVisibility } from './types.js';

/** A tick event's public facts (tags). */
export interface TickHeader {
  id: string;
  pubkey: string;
  seq: number;
  prev: string | null;
  /** The `a` tag: `39230:<agent>:<day>`. */
  session: string;
  /** The session's `d`: the UTC day. */
  day: string;
  visibility: TrajectoryVisibility;
  triggerEventId?: string;
  createdAt: number;
}

/** A tick event read back: header plus content, when it could be read. */
export interface DecodedTick extends TickHeader {
  content?: TickContent;
}

const SEQ = /^[1-9]\d{0,14}$/;
const HEX32 = /^[0-9a-f]{64}$/;
const ADDRESS = new RegExp(`^${Kind.TrajectorySession}:([0-9a-f]{64}):(\\d{4}-\\d{2}-\\d{2})$`);

/** Parses a tick event's tags; returns a reason when they are malformed. */
export function readTickHeader(event: NostrEvent): { header: TickHeader } | { problem: string } {
  if (event.kind !== Kind.TrajectoryTick) return { problem: `kind ${event.kind} is not a tick event (${Kind.TrajectoryTick})` };
  const seq = tagValue(event, 'seq');
  if (seq === undefined || !SEQ.test(seq)) return { problem: `its seq tag ${seq === undefined ? 'is missing' : `"${seq}" is not a positive integer`}` };
  const prev = tagValue(event, 'prev') ?? null;
  if (prev !== null && !HEX32.test(prev)) return { problem: `its prev tag "${prev}" is not an event id` };
  const session = tagValue(event, 'a');
  const address = session === undefined ? null : ADDRESS.exec(session);
  if (!session || !address) return { problem: `its a tag ${session === undefined ? 'is missing' : `"${session}" is not a session address`}` };
  if (address[1] !== event.pubkey) return { problem: `its a tag points to another agent's session (${session})` };
  const visibility = tagValue(event, 'visibility');
  if (visibility !== 'public' && visibility !== 'private') return { problem: `its visibility tag "${visibility ?? ''}" is neither public nor private` };
  const header: TickHeader = { id: event.id, pubkey: event.pubkey, seq: Number(seq), prev, session, day: address[2]!, visibility, createdAt: event.created_at };
  const trigger = tagValue(event, 'e');
  if (trigger !== undefined) header.triggerEventId = trigger;
  return { header };
}

/**
 * Reads a tick event's content: decrypts private content with the owner's signer (peer = the agent),
 * parses canonical JSON and checks the schema. Returns the content or what is wrong with it.
 */
export function readTickContent(
  event: NostrEvent,
  visibility: TrajectoryVisibility,
  owner: Pick<Signer, 'nip44'> | undefined,
): { content: TickContent } | { problem: string } | { locked: true } {
  let json = event.content;
  if (visibility === 'private') {
    if (!owner) return { locked: true };
    try {
      json = owner.nip44.decrypt(event.pubkey, event.content);
    } catch (err) {
      return { problem: `its content cannot be decrypted with the owner's key (${(err as Error).message})` };
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { problem: 'its content is not JSON' };
  }
  const parsed = TickContentSchema.safeParse(value);
  if (!parsed.success) return { problem: `its content does not match the tick schema: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}` };
  return { content: parsed.data };
}
