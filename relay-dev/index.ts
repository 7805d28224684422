/**
 * relay-dev's public API: `startRelay` for tests, the CLI and self-hosting, plus the parts an operator
 * composes (Relay and its hook arrays, EventStore, ready-made policies).
 */
import { loadFastCrypto } from '../src/protocol/crypto.js';
import { Relay, type RelayInfo } from './relay.js';
import { RelayMetrics } from './metrics.js';
import { listen } from './server.js';
import { EventStore } from './store.js';
import type { AuthMode, RelayLimits, RelayLogger, WithholdMode } from './types.js';
import { Verifier } from './verifier.js';

export { Relay, DEFAULT_INFO, challengesOnConnect, type RelayConfig, type RelayInfo } from './relay.js';
export { EventStore, operatorScope, type QueryScope, type SaveStatus } from './store.js';
export { DEFAULT_LIMITS, resolveLimits, limitationDocument } from './limits.js';
export { Verifier, defaultVerifyThreads } from './verifier.js';
export { infoDocument } from './nip11.js';
export * as policies from './policies.js';
export { RelayMetrics } from './metrics.js';
export type { Connection } from './connection.js';
export type * from './types.js';

/** Options for startRelay; everything is optional. */
export interface RelayOptions {
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Port; 0 (the default) picks a free one, reported in RunningRelay.port. */
  port?: number;
  /** SQLite file (WAL). Omitted: an in-memory database that is gone on close. */
  dbFile?: string;
  limits?: Partial<RelayLimits>;
  /** NIP-11 name. */
  name?: string;
  /** Other NIP-11 fields. */
  info?: Partial<RelayInfo>;
  /** Milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /** Signature worker threads; 0 verifies on the main thread. Default: one per core, at most 4. */
  verifyThreads?: number;
  logger?: RelayLogger;
  /** Kinds served only to their authenticated `p` recipient. Default [4, 1059] (none with `auth: 'off'`). */
  privateKinds?: number[];
  /** NIP-42 habit to play: `on-connect` (default), `on-demand` (strfry), `required`, `off` (see AuthMode). */
  auth?: AuthMode;
  /** Answer unauthenticated reads of private kinds by withholding them: `mixed` (strfry) or `all` (see WithholdMode). */
  withhold?: WithholdMode;
  /** Pubkeys that may authenticate on one connection (strfry: 1). Default: no limit. */
  authKeysPerConnection?: number;
  /** Public ws(s) URL when behind a proxy (accepted in NIP-42 `relay` tags). */
  publicUrl?: string;
  /** How often expired events are purged (NIP-40), in ms. Default 60 000; 0 disables the timer. */
  purgeIntervalMs?: number;
  /** Serve Prometheus metrics at GET /metrics on the relay's port. Default false. */
  metrics?: boolean;
  /** Called before listening: push hooks onto relay.rejectEvent, relay.rejectFilter, relay.rejectReq, relay.onEventSaved. */
  configure?: (relay: Relay) => void;
}

/** A started relay. */
export interface RunningRelay {
  /** ws://host:port */
  url: string;
  port: number;
  relay: Relay;
  /** Answers pending EVENTs, closes sockets with a reason, commits and closes the database. Idempotent. */
  close(): Promise<void>;
}

/** The relay could not start (port in use, database unreadable, …). */
export class RelayStartError extends Error {
  override name = 'RelayStartError';
}

/** Starts a relay: opens the store, loads fast crypto and listens. */
export async function startRelay(options: RelayOptions = {}): Promise<RunningRelay> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  await loadFastCrypto();
  let store: EventStore;
  try {
    store = new EventStore(options.dbFile ?? ':memory:');
  } catch (cause) {
    throw new RelayStartError(`cannot open relay database ${options.dbFile}: ${(cause as Error).message}`, { cause });
  }
  const logger = options.logger;
  const verifier = new Verifier(options.verifyThreads, (msg) => logger?.log({ level: 'warn', ns: 'relay', msg }));
  let relay: Relay;
  let server: Awaited<ReturnType<typeof listen>>;
  try {
    relay = new Relay({
      store,
      verifier,
      limits: options.limits,
      info: { ...options.info, ...(options.name ? { name: options.name } : {}) },
      now: options.now,
      logger,
      privateKinds: options.privateKinds,
      publicUrl: options.publicUrl,
      auth: options.auth,
      withhold: options.withhold,
      authKeysPerConnection: options.authKeysPerConnection,
    });
    if (options.metrics) relay.metrics = new RelayMetrics(relay);
    options.configure?.(relay);
    server = await listen(relay, host, port);
  } catch (cause) {
    await verifier.close();
    store.close();
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? `port ${port} on ${host} is already in use` : (cause as Error).message;
    throw new RelayStartError(`cannot start relay: ${why}`, { cause });
  }
  const purgeMs = options.purgeIntervalMs ?? 60_000;
  const purge = purgeMs > 0 ? setInterval(() => purgeExpired(relay), purgeMs) : undefined;
  purge?.unref();
  let closing: Promise<void> | undefined;
  return {
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${server.port}`,
    port: server.port,
    relay,
    close() {
      closing ??= (async () => {
        if (purge) clearInterval(purge);
        await server.close('relay shutting down');
        await verifier.close();
        store.close();
      })();
      return closing;
    },
  };
}

function purgeExpired(relay: Relay): void {
  try {
    const n = relay.store.purgeExpired(relay.nowSeconds());
    if (n > 0) relay.logger.log({ level: 'debug', ns: 'relay', msg: 'purged expired events', count: n });
  } catch (error) {
    relay.logger.log({ level: 'error', ns: 'relay', msg: 'purge failed', error: String(error) });
  }
}
