/** Shared fixtures for relay-dev tests: fixed keys and a signing helper on the project's crypto. */
import { finalizeEvent, getPublicKey } from '../../src/protocol/crypto.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { startRelay, type RelayOptions, type RunningRelay } from '../../relay-dev/index.js';
import { RawClient } from './client.js';

/** Three fixed test keys (never used anywhere real). */
export const alice = key('1111111111111111111111111111111111111111111111111111111111111111');
export const bob = key('2222222222222222222222222222222222222222222222222222222222222222');
export const carol = key('3333333333333333333333333333333333333333333333333333333333333333');

function key(hex: string): { sk: Uint8Array; pk: string } {
  const sk = hexToBytes(hex);
  return { sk, pk: getPublicKey(sk) };
}

/** A fixed base time for stored events. */
export const T0 = 1_700_000_000;

/** Signs an event; created_at defaults to T0, tags to [] and content to ''. */
export function sign(
  who: { sk: Uint8Array },
  fields: { kind: number; created_at?: number; tags?: string[][]; content?: string },
): NostrEvent {
  return finalizeEvent(
    { kind: fields.kind, created_at: fields.created_at ?? T0, tags: fields.tags ?? [], content: fields.content ?? '' },
    who.sk,
  );
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * One relay per test and the raw clients opened to it, closed by `close()` (call it in afterEach).
 * With `manualClock`, the relay's clock is `clockMs` (reset to T0 on each start) for tests that move time.
 */
export class RelayHarness {
  running: RunningRelay | undefined;
  clockMs = T0 * 1000;
  readonly #clients: RawClient[] = [];

  constructor(private readonly defaults: RelayOptions & { manualClock?: boolean } = {}) {}

  /** Starts the relay (options override the defaults). */
  async start(options: RelayOptions = {}): Promise<RunningRelay> {
    const { manualClock, ...defaults } = this.defaults;
    this.clockMs = T0 * 1000;
    this.running = await startRelay({ ...defaults, ...(manualClock ? { now: () => this.clockMs } : {}), ...options });
    return this.running;
  }

  /** The running relay (throws when none was started). */
  get relay(): RunningRelay {
    if (!this.running) throw new Error('no relay started in this test');
    return this.running;
  }

  /** A new raw client connected to the relay (`challenge: false` when the relay sends none on connect). */
  async connect(options: { challenge?: boolean } = {}): Promise<RawClient> {
    const c = await RawClient.connect(this.relay.url, options);
    this.#clients.push(c);
    return c;
  }

  /** Closes every client, then the relay. */
  async close(): Promise<void> {
    for (const c of this.#clients.splice(0)) await c.close();
    await this.running?.close();
    this.running = undefined;
  }
}
