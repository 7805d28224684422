/**
 * Adding, listing and removing an agent's watches and webhooks: checked changes to its stored
 * config, the same whether the daemon runs (its control API calls these) or not (the CLI does).
 * Webhook secrets are made here, returned once, and kept only in the agent's config in the home
 * database (mode 600); listings never include them.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { normalizeRelayUrl } from '../protocol/relay-url.js';
import { FilterSchema } from '../protocol/schema.js';
import { HookSchema, WatchListSchema, watchFilterProblem, type Hook, type Watch } from '../runtime/watch.js';
import type { HookSummary, WatchInput } from '../control/trigger-routes.js';
import type { AgentRecord, AgentStorage } from '../storage/types.js';
import { CodedError, type ErrorCode } from '../util/errors.js';

/** A refused watch or hook change; `status` is the HTTP status the control API answers with. */
export class TriggerAdminError extends CodedError {
  override name = 'TriggerAdminError';
  constructor(
    code: ErrorCode,
    message: string,
    readonly status: number,
  ) {
    super(code, message, { permanent: true });
  }
}

const WatchInputSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/i, 'letters, digits, - and _, up to 32').optional(),
    filter: z.unknown(),
    relays: z.array(z.string()).optional(),
    prompt: z.string().min(1).max(4000).optional(),
    perMinute: z.number().int().positive().max(6000).optional(),
  })
  .strict();

async function find(storage: AgentStorage, ref: string): Promise<AgentRecord> {
  const record = await storage.agents.get(ref);
  if (!record || record.state === 'terminated') throw new TriggerAdminError('AGENT_NOT_FOUND', `no agent named "${ref}"`, 404);
  return record;
}

function watchesOf(record: AgentRecord): Watch[] {
  const parsed = WatchListSchema.safeParse((record.config as { watch?: unknown }).watch ?? []);
  return parsed.success ? parsed.data : [];
}

function hooksOf(record: AgentRecord): Hook[] {
  const parsed = z.array(HookSchema).safeParse((record.config as { hooks?: unknown }).hooks ?? []);
  return parsed.success ? parsed.data : [];
}

/** The agent's watches. */
export async function listWatches(storage: AgentStorage, ref: string): Promise<Watch[]> {
  return watchesOf(await find(storage, ref));
}

/** Adds a watch after checking its filter (not too broad) and relays; returns it with its id. */
export async function addWatch(storage: AgentStorage, ref: string, input: WatchInput, now: number): Promise<Watch> {
  const record = await find(storage, ref);
  const given = WatchInputSchema.safeParse(input);
  if (!given.success) throw new TriggerAdminError('WATCH_INVALID', `invalid watch: ${given.error.issues.map((i) => `${i.path.join('.') || 'watch'}: ${i.message}`).join('; ')}`, 400);
  const filter = FilterSchema.safeParse(given.data.filter);
  if (!filter.success) throw new TriggerAdminError('WATCH_INVALID', `--filter is not a NIP-01 filter: ${filter.error.issues.map((i) => `${i.path.join('.') || 'filter'}: ${i.message}`).join('; ')}`, 400);
  const problem = watchFilterProblem(filter.data);
  if (problem) throw new TriggerAdminError('WATCH_INVALID', `--filter ${problem}`, 400);
  const relays = given.data.relays?.map((url) => {
    const normalized = normalizeRelayUrl(url);
    if (!normalized) throw new TriggerAdminError('WATCH_INVALID', `--relay is not a relay URL (expected ws:// or wss://): ${url}`, 400);
    return normalized;
  });
  const existing = watchesOf(record);
  const id = given.data.id ?? `w${1 + Math.max(0, ...existing.map((w) => Number(/^w(\d+)$/.exec(w.id)?.[1] ?? 0)))}`;
  if (existing.some((w) => w.id === id)) throw new TriggerAdminError('WATCH_INVALID', `agent "${record.name}" already has a watch "${id}"`, 409);
  const watch: Watch = {
    id,
    filter: filter.data,
    ...(relays?.length ? { relays } : {}),
    ...(given.data.prompt ? { prompt: given.data.prompt } : {}),
    ...(given.data.perMinute ? { rate: { capacity: given.data.perMinute, windowMs: 60_000 } } : {}),
    createdAt: now,
  };
  await storage.agents.updateConfig(record.index, { ...record.config, watch: [...existing, watch] }, now);
  return watch;
}

/** Removes a watch by id. */
export async function removeWatch(storage: AgentStorage, ref: string, id: string, now: number): Promise<Watch> {
  const record = await find(storage, ref);
  const existing = watchesOf(record);
  const watch = existing.find((w) => w.id === id);
  if (!watch) throw new TriggerAdminError('WATCH_NOT_FOUND', `agent "${record.name}" has no watch "${id}"`, 404);
  await storage.agents.updateConfig(record.index, { ...record.config, watch: existing.filter((w) => w !== watch) }, now);
  return watch;
}

/** The agent's webhooks, without their secrets. */
export async function listHooks(storage: AgentStorage, ref: string): Promise<HookSummary[]> {
  return hooksOf(await find(storage, ref)).map(({ secret: _secret, ...rest }) => rest);
}

/** Adds a webhook with a new random secret; the only time the secret is returned. */
export async function addHook(storage: AgentStorage, ref: string, input: { name: string; prompt?: string }, now: number): Promise<Hook> {
  const record = await find(storage, ref);
  const existing = hooksOf(record);
  if (existing.some((h) => h.name === input.name)) throw new TriggerAdminError('WEBHOOK_EXISTS', `agent "${record.name}" already has a webhook "${input.name}" (remove it first to get a new secret)`, 409);
  const parsed = HookSchema.safeParse({ name: input.name, secret: randomBytes(32).toString('hex'), ...(input.prompt ? { prompt: input.prompt } : {}), createdAt: now });
  if (!parsed.success) throw new TriggerAdminError('CONTROL_BAD_REQUEST', `invalid webhook: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 400);
  await storage.agents.updateConfig(record.index, { ...record.config, hooks: [...existing, parsed.data] }, now);
  return parsed.data;
}

/** Removes a webhook by name (its URL answers 404 from then on). */
export async function removeHook(storage: AgentStorage, ref: string, name: string, now: number): Promise<HookSummary> {
  const record = await find(storage, ref);
  const existing = hooksOf(record);
  const hook = existing.find((h) => h.name === name);
  if (!hook) throw new TriggerAdminError('WEBHOOK_NOT_FOUND', `agent "${record.name}" has no webhook "${name}"`, 404);
  await storage.agents.updateConfig(record.index, { ...record.config, hooks: existing.filter((h) => h !== hook) }, now);
  const { secret: _secret, ...rest } = hook;
  return rest;
}

/** The path a webhook is POSTed to on the hooks listener. */
export function hookPath(agent: string, hook: string): string {
  return `/hooks/${encodeURIComponent(agent)}/${encodeURIComponent(hook)}`;
}
