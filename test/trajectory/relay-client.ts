/**
 * A minimal raw NIP-01 client for the trajectory tests: publishes and queries without verifying,
 * so the verifier (not the client) is what notices an edited event a relay serves.
 */
import WebSocket from 'ws';
import type { NostrEvent } from '../../src/protocol/event.js';
import type { Filter } from '../../src/protocol/filter.js';
import type { EventQuery } from '../../src/trajectory/fetch.js';

type Frame = [string, ...unknown[]];

export class RawRelayClient implements EventQuery {
  #listeners = new Set<(frame: Frame) => void>();
  #nextSub = 0;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as Frame;
      for (const listener of this.#listeners) listener(frame);
    });
  }

  static async connect(url: string): Promise<RawRelayClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawRelayClient(ws);
  }

  /** Waits (bounded) for the first frame `pick` maps to a value. */
  #await<T>(pick: (frame: Frame) => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#listeners.delete(listener);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const listener = (frame: Frame): void => {
        const value = pick(frame);
        if (value === undefined) return;
        clearTimeout(timer);
        this.#listeners.delete(listener);
        resolve(value);
      };
      this.#listeners.add(listener);
    });
  }

  /** Publishes; resolves with the relay's OK `[accepted, message]`. */
  async publish(event: NostrEvent): Promise<[boolean, string]> {
    const ok = this.#await((f) => (f[0] === 'OK' && f[1] === event.id ? ([f[2], f[3]] as [boolean, string]) : undefined), `OK for ${event.id}`);
    this.ws.send(JSON.stringify(['EVENT', event]));
    return ok;
  }

  /** Stored events matching the filters, until EOSE (CLOSED rejects). */
  async query(filters: Filter[]): Promise<NostrEvent[]> {
    const sub = `t${this.#nextSub++}`;
    const events: NostrEvent[] = [];
    const done = this.#await((f) => {
      if (f[1] !== sub) return undefined;
      if (f[0] === 'EVENT') events.push(f[2] as NostrEvent);
      if (f[0] === 'CLOSED') return new Error(`relay closed the subscription: ${String(f[2])}`);
      return f[0] === 'EOSE' ? true : undefined;
    }, `EOSE of ${sub}`);
    this.ws.send(JSON.stringify(['REQ', sub, ...filters]));
    const end = await done;
    this.ws.send(JSON.stringify(['CLOSE', sub]));
    if (end instanceof Error) throw end;
    return events;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
