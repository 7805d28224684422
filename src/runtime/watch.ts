/**
 * Watches and webhooks: the `event` trigger's two sources, as an agent's config keeps them. A watch
 * is a NIP-01 filter the daemon subscribes to on the agent's relays (or the watch's own); a webhook is
 * a named URL with a secret that signs what is POSTed to it. Both may carry a prompt: what the agent
 * should do with what arrives (the `llm` and `assistant` behaviors follow it).
 */
import { z } from 'zod';
import type { Filter } from '../protocol/filter.js';
import { FilterSchema } from '../protocol/schema.js';

const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/i;
const nameSchema = z.string().regex(NAME, 'letters, digits, - and _, up to 32, starting with a letter or digit');

/** Matching events a watch may turn into triggers per window (more are dropped and counted). */
export const DEFAULT_WATCH_RATE = { capacity: 30, windowMs: 60_000 } as const;

/** One watch as stored in the agent's config. */
export const WatchSchema = z.object({
  id: nameSchema,
  filter: FilterSchema,
  /** Relays to watch on; default the agent's own relays. */
  relays: z.array(z.string().regex(/^wss?:\/\/\S+$/, 'must be a ws:// or wss:// URL')).optional(),
  /** What the agent should do with a matching event (LLM agents and the assistant follow it). */
  prompt: z.string().max(4000).optional(),
  /** Events per window that become triggers. */
  rate: z.object({ capacity: z.number().int().positive(), windowMs: z.number().int().positive() }).optional(),
  /** ms; the cursor starts here, so events between `watch add` and the daemon picking it up are caught. */
  createdAt: z.number().int().nonnegative().optional(),
});
/** One watch. */
export type Watch = z.infer<typeof WatchSchema>;

/** The config's `watch` list; a bare filter (the older form) becomes a watch named `w<position>`. */
export const WatchListSchema = z.preprocess(
  (list) => (Array.isArray(list) ? list.map((w, i) => (w && typeof w === 'object' && 'filter' in w ? w : { id: `w${i + 1}`, filter: w })) : list),
  z.array(WatchSchema),
);

/** One webhook as stored in the agent's config (the secret never leaves the daemon's database but once, at creation). */
export const HookSchema = z.object({
  name: nameSchema,
  /** HMAC-SHA256 key of `X-Signature-256`; 64 hex characters. */
  secret: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 hex characters'),
  prompt: z.string().max(4000).optional(),
  createdAt: z.number().int().nonnegative().optional(),
});
/** One webhook. */
export type Hook = z.infer<typeof HookSchema>;

/** Most values one list of a watch filter may hold. */
export const MAX_WATCH_VALUES = 256;

/**
 * Why a filter is too broad to watch, or undefined when it may be watched. A watch must narrow by
 * who or what: `ids`, `authors`, or at least one `#<letter>` tag list, each non-empty and at most
 * MAX_WATCH_VALUES long. `kinds` or `search` alone would subscribe to the relay's whole firehose.
 * `since`, `until` and `limit` are the daemon's (its cursor and pages), never the watch's.
 */
export function watchFilterProblem(filter: Filter): string | undefined {
  for (const key of ['since', 'until', 'limit'] as const) {
    if (filter[key] !== undefined) return `"${key}" is set by the daemon (the watch's cursor), leave it out`;
  }
  const lists: Array<[string, unknown[]]> = [];
  for (const [key, value] of Object.entries(filter)) if (Array.isArray(value)) lists.push([key, value]);
  for (const [key, values] of lists) {
    if (values.length === 0) return `"${key}" is empty: it would match nothing`;
    if (values.length > MAX_WATCH_VALUES) return `"${key}" has ${values.length} values, at most ${MAX_WATCH_VALUES}`;
  }
  const narrows = lists.some(([key]) => key === 'ids' || key === 'authors' || key.startsWith('#'));
  if (!narrows) return 'too broad: name "ids", "authors" or a tag (e.g. "#t") so the watch does not subscribe to every event of a relay';
  return undefined;
}

/** What a trigger row carries of the watch that matched (the behavior sees it). */
export interface WatchRef {
  id: string;
  prompt?: string;
}
