/** An outbox row's lane (see `OutboxLane`), shared by both engines and the sender. */
import type { OutboxLane, OutboxTarget } from './messaging-types.js';

const LANES: readonly OutboxLane[] = ['conversation', 'background'];

/** The `lane` column's value per lane (0 sorts first). */
export const LANE_NUMBER: Readonly<Record<OutboxLane, number>> = { conversation: 0, background: 1 };

/** A row's lane from its target: `own` rows are background, every other target is somebody's conversation. */
export const laneOf = (target: OutboxTarget): OutboxLane => (target.type === 'own' ? 'background' : 'conversation');

/** The `lane` column's number for a row being queued: its explicit lane, else its target's. */
export const laneNumber = (entry: { target: OutboxTarget; lane?: OutboxLane }): number => LANE_NUMBER[entry.lane ?? laneOf(entry.target)];

/** The lane a stored `lane` number names (an unknown number reads as conversation: never held back). */
export const laneFromNumber = (n: number): OutboxLane => LANES[n] ?? 'conversation';
