/**
 * The agent memory snapshot: everything one agent remembers (kv, facts, goals, peers, messages,
 * schedules) as plain JSON, for export encrypted to the agent's own key and restore on another
 * machine. A snapshot read back from a relay is untrusted: it is parsed with this schema first.
 */
import { z } from 'zod';
import type { JsonValue } from './agent-types.js';
import { StorageInputError } from './errors.js';
import { ScheduleSpecSchema } from './time.js';

const ms = z.number().int().nonnegative();
const json: z.ZodType<JsonValue> = z.json();

/** Version 1 of the snapshot format. */
export const AgentMemorySnapshotSchema = z.object({
  version: z.literal(1),
  kv: z.array(z.object({ key: z.string().min(1).max(512), value: json })),
  facts: z.array(z.object({ text: z.string().min(1).max(8192), tags: z.array(z.string()), createdAt: ms })),
  goals: z.array(z.object({ text: z.string().min(1), status: z.enum(['open', 'done', 'dropped']), dueAt: ms.optional(), createdAt: ms, updatedAt: ms })),
  peers: z.array(
    z.object({
      pubkey: z.string().min(1),
      firstSeen: ms,
      lastSeen: ms,
      messageCount: z.number().int().nonnegative(),
      trust: z.enum(['owner', 'trusted', 'known', 'unknown', 'blocked']),
    }),
  ),
  messages: z.array(z.object({ peer: z.string().min(1), direction: z.enum(['in', 'out']), text: z.string(), eventId: z.string().optional(), at: ms })),
  schedules: z.array(z.object({ spec: ScheduleSpecSchema, payload: json, key: z.string().min(1).optional(), nextAt: ms, createdAt: ms })),
}).superRefine((snap, ctx) => {
  const dup = (values: Array<string | undefined>, path: string): void => {
    const seen = new Set<string>();
    for (const v of values) {
      if (v === undefined) continue;
      if (seen.has(v)) ctx.addIssue({ code: 'custom', path: [path], message: `duplicate ${path} key ${JSON.stringify(v)}` });
      seen.add(v);
    }
  };
  dup(snap.kv.map((e) => e.key), 'kv');
  dup(snap.peers.map((p) => p.pubkey), 'peers');
  dup(snap.schedules.map((s) => s.key), 'schedules');
});

/** One agent's memory as JSON. */
export type AgentMemorySnapshot = z.infer<typeof AgentMemorySnapshotSchema>;

/** Parses an untrusted snapshot (object or JSON text); StorageInputError lists what is wrong. */
export function parseAgentMemorySnapshot(input: unknown): AgentMemorySnapshot {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (cause) {
      throw new StorageInputError('memory snapshot is not valid JSON', { cause });
    }
  }
  const parsed = AgentMemorySnapshotSchema.safeParse(value);
  if (!parsed.success) throw new StorageInputError(`invalid memory snapshot: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  return parsed.data;
}
