/**
 * The snapshot format (version 1): what an agent keeps of itself on its own relays, and the owner's
 * registry of its agents. Everything here is read back from relays, so every shape is a zod schema
 * and parsing is the only way in. The wire layout (kinds, tags, chunking) is in docs/recovery.md.
 */
import { z } from 'zod';
import type { JsonValue } from '../storage/types.js';
import { AgentMemorySnapshotSchema } from '../storage/snapshot.js';

/** NIP-78 application data: addressable, one event per author and `d` tag. */
export const SNAPSHOT_KIND = 30078;
/** The format version this code writes and the only one it reads. */
export const SNAPSHOT_VERSION = 1;
/** `d` of an agent's manifest. */
export const MANIFEST_D = 'nostr-agent-runtime/snapshot';
/** `d` of the owner's encrypted registry of agents. */
export const REGISTRY_D = 'nostr-agent-runtime/registry';
/** `d` of chunk `i` of the registry's agent list (registry version 2). */
export const registryChunkD = (i: number): string => `${REGISTRY_D}/${i}`;
/** `d` of chunk `i` of part `part`. */
export const chunkD = (part: PartName, i: number): string => `${MANIFEST_D}/${part}/${i}`;

/**
 * The parts of a snapshot, each serialized and chunked on its own, so that a new fact republishes
 * the facts part (its last chunk, usually), not the whole memory.
 */
export const PART_NAMES = ['agent', 'kv', 'facts', 'goals', 'peers', 'messages', 'schedules', 'state', 'seen'] as const;
export type PartName = (typeof PART_NAMES)[number];

/** Default plaintext bytes per chunk: NIP-44 pads 32,000 to 32,768, whose payload (~43.7 KB) keeps the event under 64 KiB. */
export const DEFAULT_CHUNK_BYTES = 32_000;
/** The newest messages kept per peer (the recent conversation, not the whole history). */
export const MESSAGES_PER_PEER = 100;

const ms = z.number().int().nonnegative();
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters');
const json: z.ZodType<JsonValue> = z.json();
const memory = AgentMemorySnapshotSchema;

/** One chunk as the manifest lists it: its `d` tag, the SHA-256 of its plaintext, its size. */
export const ChunkRefSchema = z.object({ d: z.string().min(1).max(200), sha256: hex64, bytes: z.number().int().positive() });

/** The manifest's content (NIP-44 to the agent's own key). */
export const ManifestSchema = z.object({
  version: z.literal(SNAPSHOT_VERSION),
  /** Counts the agent's snapshots across machines: each one is one more than any seen before. */
  generation: z.number().int().positive(),
  /** Which daemon (home) wrote it: a random id per home. */
  daemon: z.string().min(8).max(64),
  /** Written at a graceful stop: the writing daemon no longer runs the agent. */
  final: z.boolean(),
  createdAt: ms,
  agent: z.object({ name: z.string().min(1).max(64), index: z.number().int().nonnegative(), pubkey: hex64 }),
  /** The trajectory head when it was written (seq 0, id null: no tick yet). */
  trajectory: z.object({ seq: z.number().int().nonnegative(), id: hex64.nullable() }),
  parts: z.array(z.object({ name: z.enum(PART_NAMES), chunks: z.array(ChunkRefSchema).min(1).max(4096) })),
}).superRefine((m, ctx) => {
  const names = m.parts.map((p) => p.name);
  for (const name of PART_NAMES) if (!names.includes(name)) ctx.addIssue({ code: 'custom', path: ['parts'], message: `part "${name}" is missing` });
  if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', path: ['parts'], message: 'a part is listed twice' });
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** The `agent` part: the record and its config (with no API key or other credential in it). */
export const AgentPartSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/i),
  index: z.number().int().nonnegative(),
  account: z.number().int().positive(),
  pubkey: hex64,
  behavior: z.string().min(1).max(1024),
  state: z.enum(['creating', 'active', 'dormant', 'paused', 'failed', 'terminated']),
  config: z.record(z.string(), json),
  createdAt: ms,
  /** Config fields removed because they hold credentials (set them again after a restore). */
  stripped: z.array(z.string()),
}).refine((a) => a.account === a.index + 1, { message: 'account must be index + 1', path: ['account'] });
export type AgentPart = z.infer<typeof AgentPartSchema>;

const usage = z.object({
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  computeMs: z.number().nonnegative(),
  llmCalls: z.number().nonnegative(),
  tokens: z.number().nonnegative(),
  sats: z.number().nonnegative(),
  notified80: z.array(z.enum(['computeMs', 'llmCalls', 'tokens', 'sats'])),
  notified100: z.array(z.enum(['computeMs', 'llmCalls', 'tokens', 'sats'])),
});

/** The `state` part: today's budget use, the trajectory chain head and the inbox cursors. */
export const StatePartSchema = z.object({
  budget: usage,
  /** The chain state exactly as the trajectory sink keeps it, and the head tick's times. */
  trajectory: z.object({
    chain: z.object({
      lastId: hex64.nullable(),
      lastSeq: z.number().int().nonnegative(),
      session: z.json().nullable(),
    }),
    head: z.object({ startedAt: ms, endedAt: ms, trigger: z.enum(['dm', 'mention', 'alarm', 'event', 'manual']), outcome: z.enum(['ok', 'error', 'aborted', 'refused']) }).nullable(),
  }),
  cursors: z.array(z.object({ relay: z.string().min(1).max(512), cursor: z.number().int().nonnegative() })),
});
export type StatePart = z.infer<typeof StatePartSchema>;

/** The schemas of every part, by name. Memory parts reuse storage's memory-snapshot schema field by field. */
export const PART_SCHEMAS = {
  agent: AgentPartSchema,
  kv: memory.shape.kv,
  facts: memory.shape.facts,
  goals: memory.shape.goals,
  peers: memory.shape.peers,
  messages: memory.shape.messages,
  schedules: memory.shape.schedules,
  state: StatePartSchema,
  /** Ids of the events the agent handled inside the catch-up window, oldest first: a restore never answers one twice. */
  seen: z.array(hex64).max(100_000),
} satisfies Record<PartName, z.ZodType>;

/** A whole agent as it comes out of a snapshot: each part parsed. */
export type AgentSnapshot = { [P in PartName]: z.infer<(typeof PART_SCHEMAS)[P]> };

/**
 * The registry's content version this code writes. Version 1 (still read) held the whole agent list
 * in one event, which past ~400 agents no longer fits one NIP-44 payload (64 KB of plaintext);
 * version 2 is a head listing chunks of the list's JSON, cut and hashed as snapshot parts are.
 */
export const REGISTRY_VERSION = 2;

/** The agents of a registry. */
export const RegistryAgentsSchema = z.array(z.object({ name: z.string().min(1).max(64), index: z.number().int().nonnegative(), account: z.number().int().positive(), pubkey: hex64, relays: z.array(z.string().max(512)).max(64) })).max(10_000);

/** Registry version 1: the whole list in the one event (NIP-44 to the owner's own key). */
export const RegistryV1Schema = z.object({ version: z.literal(1), updatedAt: ms, agents: RegistryAgentsSchema });

/** Registry version 2, the head event: the chunks whose plaintexts, joined, are the list's JSON. */
export const RegistryHeadSchema = z.object({
  version: z.literal(REGISTRY_VERSION),
  updatedAt: ms,
  /** How many agents the list holds (checked after reassembly). */
  count: z.number().int().nonnegative().max(10_000),
  chunks: z.array(ChunkRefSchema).min(1).max(4096),
});
export type RegistryHead = z.infer<typeof RegistryHeadSchema>;

/** The owner's registry as read (either version): which accounts hold its agents. */
export interface Registry {
  version: 1 | typeof REGISTRY_VERSION;
  updatedAt: number;
  agents: z.infer<typeof RegistryAgentsSchema>;
}
