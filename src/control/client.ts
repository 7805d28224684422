/**
 * The control client the CLI and the TUI share: finds the running daemon through the home's
 * control.json and control.token, and calls it. `connectControl` resolves undefined when no daemon
 * answers, so callers can say so plainly instead of hanging.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeEvent } from '../runtime/events.js';
import type { TickRecord } from '../trajectory/types.js';
import type { Watch } from '../runtime/watch.js';
import { ERROR_CODES, type ErrorCode } from '../util/errors.js';
import type { ReadinessReport } from './health.js';
import type { HookCreated, HookSummary, WatchInput } from './trigger-routes.js';
import { ControlError, type AgentAction, type AgentSummary, type ControlInfo, type CreateAgentRequest, type DaemonOverview } from './types.js';

/** File names inside the home (kept here so the client needs no config import). */
export const CONTROL_INFO_FILE = 'control.json';
export const CONTROL_TOKEN_FILE = 'control.token';

/** Calls one running daemon's control API. */
export class ControlClient {
  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  async #call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: signal ?? AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ControlError(`the daemon answered ${res.status} with a non-JSON body`, res.status);
    }
    if (!res.ok) {
      const body = parsed as { error?: string; code?: string } | undefined;
      const code = body?.code !== undefined && Object.hasOwn(ERROR_CODES, body.code) ? (body.code as ErrorCode) : undefined;
      throw new ControlError(body?.error ?? `HTTP ${res.status}`, res.status, code ? { code } : {});
    }
    return parsed as T;
  }

  overview(options?: { signal?: AbortSignal }): Promise<DaemonOverview> {
    return this.#call('GET', '/v1/overview', undefined, options?.signal);
  }
  agent(ref: string): Promise<AgentSummary> {
    return this.#call('GET', `/v1/agents/${encodeURIComponent(ref)}`);
  }
  create(request: CreateAgentRequest): Promise<AgentSummary> {
    return this.#call('POST', '/v1/agents', request);
  }
  act(ref: string, action: AgentAction): Promise<AgentSummary> {
    return this.#call('POST', `/v1/agents/${encodeURIComponent(ref)}/${action}`, {});
  }
  ticks(ref: string, limit: number, options?: { signal?: AbortSignal }): Promise<TickRecord[]> {
    return this.#call('GET', `/v1/agents/${encodeURIComponent(ref)}/ticks?limit=${limit}`, undefined, options?.signal);
  }
  poke(ref: string, text: string): Promise<{ inboxId: number }> {
    return this.#call('POST', `/v1/agents/${encodeURIComponent(ref)}/poke`, { text });
  }

  watches(ref: string): Promise<Watch[]> {
    return this.#call('GET', `/v1/agents/${encodeURIComponent(ref)}/watches`);
  }
  addWatch(ref: string, input: WatchInput): Promise<Watch> {
    return this.#call('POST', `/v1/agents/${encodeURIComponent(ref)}/watches`, input);
  }
  removeWatch(ref: string, id: string): Promise<Watch> {
    return this.#call('DELETE', `/v1/agents/${encodeURIComponent(ref)}/watches/${encodeURIComponent(id)}`);
  }
  hooks(ref: string): Promise<HookSummary[]> {
    return this.#call('GET', `/v1/agents/${encodeURIComponent(ref)}/hooks`);
  }
  addHook(ref: string, input: { name: string; prompt?: string }): Promise<HookCreated> {
    return this.#call('POST', `/v1/agents/${encodeURIComponent(ref)}/hooks`, input);
  }
  removeHook(ref: string, name: string): Promise<HookSummary> {
    return this.#call('DELETE', `/v1/agents/${encodeURIComponent(ref)}/hooks/${encodeURIComponent(name)}`);
  }

  /** The daemon's readiness checks (`GET /readyz`: 200 ready, 503 not, the same report either way). */
  async readiness(options?: { signal?: AbortSignal }): Promise<ReadinessReport> {
    const res = await fetch(`${this.url}/readyz`, { headers: { authorization: `Bearer ${this.token}` }, signal: options?.signal ?? AbortSignal.timeout(10_000) });
    if (res.status !== 200 && res.status !== 503) throw new ControlError(`readiness check answered HTTP ${res.status}`, res.status);
    return (await res.json()) as ReadinessReport;
  }

  /** Runtime events until the signal aborts or the daemon goes away. */
  async *events(options: { signal?: AbortSignal } = {}): AsyncGenerator<RuntimeEvent> {
    const res = await fetch(`${this.url}/v1/events`, { headers: { authorization: `Bearer ${this.token}` }, signal: options.signal });
    if (!res.ok || !res.body) throw new ControlError(`event stream refused: HTTP ${res.status}`, res.status);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice(6))
          .join('\n');
        if (data) yield JSON.parse(data) as RuntimeEvent;
      }
    }
  }
}

/** Reads the home's control files; undefined when they are absent or unreadable. */
export function readControlInfo(home: string): { info: ControlInfo; token: string } | undefined {
  try {
    const info = JSON.parse(readFileSync(join(home, CONTROL_INFO_FILE), 'utf8')) as ControlInfo;
    const token = readFileSync(join(home, CONTROL_TOKEN_FILE), 'utf8').trim();
    if (typeof info.url !== 'string' || !token) return undefined;
    return { info, token };
  } catch {
    return undefined;
  }
}

/** A client for the home's running daemon, or undefined when none answers within `timeoutMs`. */
export async function connectControl(home: string, timeoutMs = 2000): Promise<ControlClient | undefined> {
  const found = readControlInfo(home);
  if (!found) return undefined;
  const client = new ControlClient(found.info.url, found.token);
  try {
    await client.overview({ signal: AbortSignal.timeout(timeoutMs) });
    return client;
  } catch {
    return undefined;
  }
}
