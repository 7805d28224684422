/**
 * Which agent's tick starts first when more agents have work than `concurrency` allows: the one
 * whose next trigger matters most to the owner. An agent's own triggers still run in arrival order;
 * this only orders agents against each other, by the trigger at the head of each one's queue.
 * Classes: 0 the owner's messages and pokes, due alarms and lifecycle ticks; 1 other people's DMs
 * and mentions; 2 watched events and webhooks. A trigger moves up one class per minute it has
 * waited, so a flood of high-class work delays the rest but never starves it.
 */
import type { InboxEntry } from '../storage/types.js';

/** How long a trigger waits before it moves up one class (ms). */
export const PRIORITY_AGING_MS = 60_000;

/** How many classes there are: `triggerPriority` is always below this (a start order keeps one list per class). */
export const TRIGGER_CLASSES = 3;

/** The class of a trigger before aging (lower runs first). */
export function triggerClass(entry: Pick<InboxEntry, 'trigger' | 'sender'>, ownerPubkey: string): 0 | 1 | 2 {
  switch (entry.trigger) {
    case 'alarm':
    case 'manual':
      return 0;
    case 'dm':
    case 'mention':
      return entry.sender === ownerPubkey ? 0 : 1;
    case 'event':
      return 2;
  }
}

/** The class of a waiting trigger at `now`, after aging. */
export function triggerPriority(entry: Pick<InboxEntry, 'trigger' | 'sender' | 'createdAt'>, ownerPubkey: string, now: number): number {
  return Math.max(0, triggerClass(entry, ownerPubkey) - Math.floor(Math.max(0, now - entry.createdAt) / PRIORITY_AGING_MS));
}
