/** An outbox row's lane (see `OutboxLane`), shared by both engines and the sender. */
import type { OutboxLane, OutboxTarget } from './messaging-types.js';

/** The `lane` column's value per lane (0 sorts first). */
export const LANE_NUMBER: Readonly<Record<OutboxLane, number>> = { conversation: 0, background: 1 };

/** A row's lane from its target: `own` rows are background, every other target is somebody's conversation. */
export const laneOf = (target: OutboxTarget): OutboxLane => (target.type === 'own' ? 'background' : 'conversation');
