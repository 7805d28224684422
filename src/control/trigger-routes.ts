/**
 * The control API's routes for an agent's event triggers: its watches and webhooks.
 *   GET    /v1/agents/<ref>/watches          list
 *   POST   /v1/agents/<ref>/watches          add ({filter, relays?, prompt?, id?, perMinute?}) → 201
 *   DELETE /v1/agents/<ref>/watches/<id>     remove
 *   GET    /v1/agents/<ref>/hooks            list (never the secrets)
 *   POST   /v1/agents/<ref>/hooks            add ({name, prompt?}) → 201 with the secret and URL, once
 *   DELETE /v1/agents/<ref>/hooks/<name>     remove
 */
import { z } from 'zod';
import type { Hook, Watch } from '../runtime/watch.js';
import { ControlError } from './types.js';

/** What `agent watch add` sends. */
export interface WatchInput {
  id?: string;
  filter: unknown;
  relays?: string[];
  prompt?: string;
  /** Matching events per minute that become triggers. */
  perMinute?: number;
}

/** A webhook as listed: everything but the secret. */
export type HookSummary = Omit<Hook, 'secret'>;

/** A new webhook: its secret (shown this once) and where to POST (when the hooks listener runs). */
export type HookCreated = Hook & { path: string; url?: string };

/** What the daemon provides for these routes. */
export interface TriggerAdmin {
  watches(agent: string): Promise<Watch[]>;
  addWatch(agent: string, input: WatchInput): Promise<Watch>;
  removeWatch(agent: string, id: string): Promise<Watch>;
  hooks(agent: string): Promise<HookSummary[]>;
  addHook(agent: string, input: { name: string; prompt?: string }): Promise<HookCreated>;
  removeHook(agent: string, name: string): Promise<HookSummary>;
}

const HookInput = z.object({ name: z.string().min(1).max(32), prompt: z.string().min(1).max(4000).optional() }).strict();

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (cause) {
    throw new ControlError(`malformed path segment "${segment.slice(0, 80)}"`, 400, { cause });
  }
}

/** Answers a trigger route (`parts`: the path's segments, exactly, empty ones included); false when the path is not one (the caller routes on). */
export async function routeTriggers(
  method: string,
  parts: string[],
  readJson: () => Promise<unknown>,
  send: (status: number, body: unknown) => void,
  admin: TriggerAdmin,
): Promise<boolean> {
  const [v1, resource, rawRef, kind, rawItem, ...rest] = parts;
  if (v1 !== 'v1' || resource !== 'agents' || !rawRef || (kind !== 'watches' && kind !== 'hooks') || rest.length > 0 || rawItem === '') return false;
  const ref = decode(rawRef);
  const item = rawItem === undefined ? undefined : decode(rawItem);
  if (kind === 'watches') {
    if (method === 'GET' && item === undefined) return send(200, await admin.watches(ref)), true;
    if (method === 'POST' && item === undefined) return send(201, await admin.addWatch(ref, (await readJson()) as WatchInput)), true;
    if (method === 'DELETE' && item !== undefined) return send(200, await admin.removeWatch(ref, item)), true;
  } else {
    if (method === 'GET' && item === undefined) return send(200, await admin.hooks(ref)), true;
    if (method === 'POST' && item === undefined) {
      const parsed = HookInput.safeParse(await readJson());
      if (!parsed.success) throw new ControlError(`invalid webhook: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`, 400);
      return send(201, await admin.addHook(ref, parsed.data)), true;
    }
    if (method === 'DELETE' && item !== undefined) return send(200, await admin.removeHook(ref, item)), true;
  }
  throw new ControlError(`no such endpoint: ${method} /${parts.join('/')}`, 404);
}
