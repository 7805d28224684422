/**
 * The daemon: the composition root that wires SQLite storage, the relay pool, the inbox
 * subscriptions, the runtime engine, the outbox publisher and the control API for every agent of
 * one home. `agent run` and `agent up` start it; tests start it through those commands.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinBehaviors } from '../behaviors/index.js';
import { startHooksServer, type RunningHooksServer } from '../control/hooks-server.js';
import { startOpsServer, type RunningOpsServer } from '../control/ops-server.js';
import { startControlServer, type RunningControlServer } from '../control/server.js';
import type { ControlInfo } from '../control/types.js';
import { loadFastCrypto } from '../protocol/crypto.js';
import { deriveFromSeed } from '../protocol/nip06.js';
import { CachedRelayLists } from '../relay/relay-lists.js';
import { WsRelayPool } from '../relay/relay-pool.js';
import { InboxSubscriptions } from '../relay/subscription-manager.js';
import { OutboxPublisher } from '../relay/outbox-publisher.js';
import { OwnEchoes } from '../relay/own-echoes.js';
import { LeaseManager, newDaemonId } from '../cluster/lease-manager.js';
import { Runtime } from '../runtime/engine.js';
import { KeyRing } from '../signer/key-ring.js';
import { SecretKeySigner } from '../signer/secret-key-signer.js';
import type { Signer } from '../signer/types.js';
import { DaemonRunningError, lockDatabaseForDaemon, type DaemonLock } from '../storage/daemon-lock.js';
import { parseDatabaseUrl } from '../storage/open.js';
import type { AgentRecord, AgentStorage, Lease } from '../storage/types.js';
import { collectGarbage } from '../util/full-gc.js';
import { IndexSet } from '../util/index-map.js';
import type { Logger } from '../util/logger.js';
import { AgentDirectory } from './agent-directory.js';
import { agentRelays } from './agents.js';
import { registerModuleBehaviors } from './behavior-modules.js';
import { createControlHandler } from './control-handler.js';
import { createDaemonOps } from './daemon-ops.js';
import { CLAIMS_PER_COLLECTION, createDaemonSnapshots } from './daemon-snapshots.js';
import { createDaemonTriggers } from './daemon-triggers.js';
import { namingAgents } from './log-names.js';
import { defaultRelays, openStorage, type HomeContext } from './home-context.js';
import { publishProfiles } from './profiles.js';
import { tickLogLine } from './tick-log.js';
import { createMcpSession } from '../think/mcp/session.js';
import { createThinkFor } from './think-for.js';
import { createTrajectorySink } from './trajectory-sink.js';
import { CliError } from './errors.js';

/** Strings that must never appear in a published trajectory (configured API keys). */
function ctxSecrets(home: HomeContext): string[] {
  return [home.config.llm?.apiKey, process.env.AGENT_LLM_API_KEY].filter((s): s is string => typeof s === 'string' && s.length >= 8);
}

/** Which agents this daemon hosts: all, or those with `index % of === shard`. */
export interface Shard {
  index: number;
  of: number;
}

/** Options of `startDaemon`. */
export interface DaemonOptions {
  home: HomeContext;
  seed: Uint8Array;
  logger: Logger;
  /** Extra relays to listen on (`agent run --relay`). */
  relays?: string[];
  /** A pin on top of leases: only agents with `index % of === index` are claimed. */
  shard?: Shard;
  /** How long a lease lasts without renewal (ms) [DEFAULT_LEASE_MS]; tests make it short. */
  leaseMs?: number;
  /** The most agents this daemon holds [its fair share]. */
  capacity?: number;
  /** Serve /metrics, /healthz and /readyz without the token on this listener (`--metrics-host/--metrics-port`). */
  metrics?: { host?: string; port: number };
  /** Receive signed webhooks on this listener (`--hooks-host/--hooks-port`); off unless given here or in config. */
  hooks?: { host?: string; port: number };
}

/** A running daemon. */
export interface RunningDaemon {
  runtime: Runtime;
  storage: AgentStorage;
  control: RunningControlServer;
  /** The tokenless operations listener, when asked for. */
  metricsServer?: RunningOpsServer;
  /** The webhook listener, when asked for. */
  hooksServer?: RunningHooksServer;
  ownerPubkey: string;
  /** How many agents the home had when the daemon started (terminated ones too). */
  agents: number;
  /** The agents' leases held by this daemon. */
  leases: LeaseManager;
  relays(): string[];
  /** Graceful stop: running ticks finish (or roll back when `signal` aborts), sockets close. */
  stop(options?: { signal?: AbortSignal }): Promise<void>;
}

/** The control token, created once per home (mode 600). */
function controlToken(file: string): string {
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 32) return token;
  }
  const token = randomBytes(32).toString('hex');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/**
 * Starts everything; resolves once the relays are subscribed and the control API listens. A SQLite
 * database takes one daemon: a second one is refused (DAEMON_RUNNING) before it opens anything
 * (PostgreSQL takes many, sharing the agents by lease).
 */
export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  let lock: DaemonLock = { release: () => {} };
  try {
    const location = parseDatabaseUrl(options.home.databaseUrl);
    if (location.engine === 'sqlite' && location.file !== ':memory:') {
      mkdirSync(options.home.home, { recursive: true, mode: 0o700 });
      lock = lockDatabaseForDaemon(location.file);
    }
  } catch (error) {
    if (error instanceof DaemonRunningError) throw new CliError(error.message, 2, { cause: error });
    throw error;
  }
  try {
    const daemon = await startLocked(options);
    return { ...daemon, stop: (stopOptions) => daemon.stop(stopOptions).finally(() => lock.release()) };
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function startLocked(options: DaemonOptions): Promise<RunningDaemon> {
  const { home, seed } = options;
  // Public keys come from the agents' rows; a secret key is derived only when its agent signs, unwraps or
  // answers AUTH, into a bounded cache (src/signer/key-ring.ts): a restart derives nothing for dormant agents.
  const ring = new KeyRing({ seed });
  // One record per agent (key, name, relays, signer), filled below; log lines name agents instead of keys from the first line on.
  const directory = new AgentDirectory(ring);
  const nameOf = (pubkey: string): string | undefined => directory.nameOf(pubkey);
  const logger = namingAgents(options.logger, nameOf);
  await loadFastCrypto();
  // A server database reports outages here ("database unavailable, retrying") while work waits for it.
  // SQLite's WAL checkpoints (an fsync of both files each) run on a worker thread, not in this loop's commits.
  const storage = await openStorage(home, { logger, backgroundCheckpoints: true });
  const owner = new SecretKeySigner(deriveFromSeed(seed, 0).secretKey);
  // Every daemon on the database shares the agents by lease (src/cluster): it hosts what it holds,
  // except agents another machine may be running (the split-brain rule, docs/recovery.md).
  const leaseRef: { current?: LeaseManager } = {};
  const daemonId = newDaemonId();
  const held = new Set<number>();
  // Agents whose split-brain verdict is not in yet: claimed, not run (see `checkAgents` below).
  const unchecked = new IndexSet();
  const holds = (index: number): boolean => (leaseRef.current?.holds(index) ?? false) && !held.has(index) && !unchecked.has(index);
  const hosts = (r: Pick<AgentRecord, 'index' | 'state'>): boolean => r.state !== 'terminated' && holds(r.index);

  // An agent this daemon has not read yet (created a moment ago): derived now, its row read on its first claim.
  const signerFor = (index: number): Signer => directory.get(index) ?? ring.signer(index);

  // Every agent, terminated ones too: the directory names them all.
  const everyone = await storage.agents.list();
  const hosted = everyone.filter((r) => r.state !== 'terminated');
  for (const record of everyone) directory.note(record);
  // The key cache may grow to every agent's signer when agents answering in turn do not fit (see KeyRing.reserve).
  ring.reserve(everyone.length + 1);
  // One key is derived now so a home opened with another mnemonic fails at once; every other key is checked when first derived.
  const probe = hosted[0];
  if (probe) {
    try {
      ring.signer(probe.index, probe.pubkey);
    } catch (error) {
      await storage.close();
      throw new Error(`agent "${probe.name}" was created with another mnemonic or BIP-39 passphrase: its key does not match`, { cause: error });
    }
  }
  const listenRelays = new Set<string>([...(options.relays ?? []), ...defaultRelays(home.config)]);
  for (const record of hosted) for (const url of agentRelays(record)) listenRelays.add(url);

  const pool = new WsRelayPool({ relays: [...listenRelays], logger });
  const ownRelays = (pubkey: string): string[] => directory.relaysOf(pubkey) ?? [...listenRelays];

  const wake: { outbox?: () => void } = {};
  const snapshots = createDaemonSnapshots({
    home,
    storage,
    pool,
    owner,
    signerFor,
    indexOf: (pubkey) => directory.byPubkey(pubkey)?.index,
    relaysOf: (record) => (agentRelays(record).length ? agentRelays(record) : [...listenRelays]),
    secrets: ctxSecrets(home),
    logger,
    onQueued: () => wake.outbox?.(),
  });
  // The split-brain check (docs/recovery.md) reads every agent's head from the relays: with thousands of
  // agents, seconds of relay round trips. It runs once the daemon is up; until an agent's verdict is in,
  // its lease is held but the agent is not hosted (no subscription, no tick). Only a SQLite home checks.
  if (storage.engine === 'sqlite') for (const r of hosted) unchecked.add(r.index);
  // The start's agents whose profiles have not been checked yet (once each, when they are first taken on).
  const unprofiled = new IndexSet();
  for (const r of hosted) unprofiled.add(r.index);

  // The metrics are built once the runtime exists; LLM calls only happen after that.
  const metricsRef: { current?: ReturnType<typeof createDaemonOps>['metrics'] } = {};
  const behaviors = builtinBehaviors();
  await registerModuleBehaviors(behaviors, hosted.map((r) => r.behavior));
  const runtime = new Runtime({
    storage,
    signerFor,
    ownerPubkey: owner.getPublicKey(),
    behaviors,
    hosts: holds,
    leases: { holder: daemonId, fenceFor: (index) => leaseRef.current?.fence(index) },
    trajectory: createTrajectorySink({ ownerPubkey: owner.getPublicKey(), knownSecrets: ctxSecrets(home) }),
    thinkFor: createThinkFor({ env: process.env, homeLlm: home.config.llm, observe: (agent, call) => metricsRef.current?.llmCall(agent.name, call) }),
    mcpFor: (record, config) => {
      const session = createMcpSession(config.mcp, {
        env: process.env,
        log: (msg, fields) => logger.log({ level: 'warn', ns: 'mcp', msg, agent: record.name, ...fields }),
      });
      // Listed when the agent wakes: the servers start now, in parallel with the tick's first steps.
      session.warm();
      return session;
    },
    logger,
    idleMs: home.config.runtime.idleMs,
    maxConsecutiveFailures: home.config.runtime.maxConsecutiveFailures,
    ...(home.config.runtime.concurrency ? { concurrency: home.config.runtime.concurrency } : {}),
  });
  // The outbox notes the agents' own copies of their gift wraps; the inbox then settles them unopened.
  const ownEchoes = new OwnEchoes();
  const inbox = new InboxSubscriptions({
    pool,
    storage,
    ownEchoes,
    sink: async (message, sinkOptions) => {
      const marked = await runtime.sink(message, sinkOptions);
      metricsRef.current?.received(message.agentPubkey, message.kind === 'mention' ? 'mention' : message.protocol === 'nip04' ? 'nip04' : 'nip17');
      return marked;
    },
    relays: [...listenRelays],
    logger,
  });
  const publisher = new OutboxPublisher({
    storage,
    holder: daemonId,
    pool,
    ownEchoes,
    lists: new CachedRelayLists({ pool, discoveryRelays: () => [...listenRelays] }),
    ownRelays,
    logger,
    onReport: (report) => {
      metricsRef.current?.outbox(report, Date.now());
      if (report.type === 'failed') logger.log({ level: 'warn', ns: 'outbox', msg: 'gave up publishing', event: report.eventId, reason: report.reason });
    },
  });

  // Agents listing no relays of their own share one array, and so do agents listing the same ones (directory.host).
  const sharedRelays = [...listenRelays];
  const host = (records: Array<{ record: AgentRecord; since?: number }>): void => {
    for (const { record } of records) {
      const relays = agentRelays(record);
      directory.host(record, relays.length ? relays : sharedRelays);
    }
    inbox.addAgents(records.map(({ record, since }) => ({ signer: signerFor(record.index), ...(since !== undefined ? { since } : {}) })));
  };
  // After the agents: a relay that takes one AUTH key per connection gives it to an agent (whose DMs it
  // then serves on the shared connection), not to the owner, whose key only writes need.
  pool.addAuthSigner(owner);

  const { ops, metrics } = createDaemonOps({
    storage,
    runtime,
    pool,
    receiver: inbox.receiver,
    hosted: async () => (await storage.agents.list()).filter(hosts),
    relaysOf: (record) => directory.relaysOf(record.pubkey) ?? [...listenRelays],
    nameOf,
  });
  metricsRef.current = metrics;
  const servers: { control?: RunningControlServer; metrics?: RunningOpsServer; hooks?: RunningHooksServer } = {};
  const triggers = createDaemonTriggers({
    storage,
    runtime,
    pool,
    logger,
    metrics: () => metricsRef.current,
    hosts,
    relaysOf: ownRelays,
    nameOf: (pubkey) => nameOf(pubkey) ?? pubkey.slice(0, 12),
    hooksUrl: () => servers.hooks?.url,
  });
  runtime.events.subscribe((event) => metrics.observe(event));
  runtime.events.subscribe((event) => snapshots.observe(event));
  wake.outbox = () => publisher.notify();
  runtime.events.subscribe((event) => {
    if (event.type === 'tick.finished') {
      publisher.notify();
      logger.log(tickLogLine(nameOf(event.agent) ?? event.agent.slice(0, 12), event.record));
    } else if (event.type === 'agent.state') {
      publisher.notify();
      logger.log({ level: 'info', ns: 'runtime', msg: 'state', agent: nameOf(event.agent) ?? event.agent.slice(0, 12), from: event.from, to: event.to, ...(event.reason ? { reason: event.reason } : {}) });
    } else if (event.type === 'budget.warning' || event.type === 'budget.exhausted') {
      publisher.notify();
      logger.log({ level: 'warn', ns: 'budget', msg: event.type, agent: nameOf(event.agent) ?? event.agent, resource: event.resource, used: event.used, limit: event.limit });
    }
  });

  /** `work` is a sweep of the key ring (KeyRing.sweep) until it settles: the start's claims and its split-brain check. */
  const sweeping = <T>(work: Promise<T>): Promise<T> => {
    const done = ring.sweep();
    return work.finally(done);
  };
  // Aborted at stop: background work started by the daemon (paced profile publishing) ends with it.
  const background = new AbortController();
  const publishFor = (records: AgentRecord[]): void => {
    // Only each agent's index and its behavior's `about` (a shared string) are kept while the batches are
    // paced out (~50 s with 10,000 agents); the rest of a subject comes from the directory when its batch is due.
    const indexes = Uint32Array.from(records, (r) => r.index);
    const abouts = records.map((r) => behaviors.get(r.behavior)?.about);
    const subjects = {
      count: indexes.length,
      // Every agent taken on is in the directory (takeOn notes its row first).
      at: (i: number) => {
        const agent = directory.get(indexes[i]!)!;
        return { signer: agent, name: agent.name, about: abouts[i], relays: ownRelays(agent.pubkey) };
      },
    };
    // The owner's list of agents is read when the batches are done (it names agents created meanwhile too).
    const all = async (): Promise<string[]> => (await storage.agents.list()).filter((r) => r.state !== 'terminated').map((r) => r.pubkey);
    // Paced (a batch of agents a second): a first run with many new agents streams its profiles.
    publishProfiles({ pool, storage, owner, agents: subjects, allAgentPubkeys: all, relays: [...listenRelays], now: Date.now(), signal: background.signal, onQueued: () => publisher.notify() })
      .catch((error: unknown) => {
        if (!background.signal.aborted) logger.log({ level: 'warn', ns: 'profile', msg: 'profile publish failed', error: (error as Error).message });
      });
  };

  let noLeaseGained = true;
  // The profile check of a start (one fetch per 200 agents, every answer verified) waits until the daemon is up.
  let running: () => void = () => {};
  const up = new Promise<void>((resolve) => (running = resolve));
  let stopping: Promise<void> | undefined;
  // The start's rows reach the check through this, cleared when it begins: a closure naming `hosted` kept
  // every row (~0.35 KiB each, 3.5 MB of heap with 10,000 agents) in the daemon's context for its whole life.
  let toCheck: AgentRecord[] | undefined = hosted;
  /**
   * The split-brain check of the start's agents, once the daemon is up: each agent it clears is taken on
   * (if its lease is still held), each it holds stays claimed and not run. A check that fails as a whole
   * runs them all, as the guard does for an agent whose head no relay answers.
   */
  const checkAgents = async (): Promise<void> => {
    const records = toCheck ?? [];
    toCheck = undefined;
    try {
      if (unchecked.size > 0) for (const index of await snapshots.guard(records, { signal: background.signal })) held.add(index);
    } catch (error) {
      logger.log({ level: 'warn', ns: 'snapshot', msg: 'split-brain check failed; running the agents', error: (error as Error).message });
    }
    for (const r of records) unchecked.delete(r.index);
    // What the check read from the relays (a head per agent) is garbage now: collected before the claims start.
    if (records.length >= CLAIMS_PER_COLLECTION) collectGarbage();
    if (stopping) return;
    const waiting = [...deferred.values()].filter((l) => leases.holds(l.agentIndex));
    deferred.clear();
    await takeOn(waiting).catch((error: unknown) => logger.log({ level: 'warn', ns: 'lease', msg: 'taking on checked agents failed', error: (error as Error).message }));
  };
  /** Leases whose agent waits for its split-brain verdict (gained before it was in). */
  const deferred = new Map<number, Lease>();
  // Hosts the agents of `gained` leases: subscribed from the lease's cursor (or the agent's creation), then what is pending runs.
  const takeOn = async (gained: Lease[]): Promise<void> => {
    if (gained.length === 0) return;
    const records: AgentRecord[] = [];
    const hosting: Array<{ record: AgentRecord; since: number }> = [];
    // Many leases at once (a start): one read of every agent, not one per lease; it is the registry's list too.
    const all = gained.length > 1 ? await storage.agents.list() : undefined;
    const byIndex = all ? new Map(all.map((r) => [r.index, r])) : undefined;
    for (const lease of gained) {
      const record = byIndex ? byIndex.get(lease.agentIndex) : await storage.agents.get(lease.agentIndex);
      // Held back by the split-brain rule: claimed (so no one else runs it here) but not run.
      if (!record || record.state === 'terminated' || held.has(record.index)) continue;
      directory.note(record);
      hosting.push({ record, since: lease.cursor ?? Math.floor(record.createdAt / 1000) });
      records.push(record);
    }
    host(hosting);
    await runtime.adopt(records.map((r) => r.index), records);
    await triggers.refresh();
    publisher.notify();
    // The start's agents get their profiles checked once, when first taken on (after the daemon is up).
    const toCheck = records.filter((r) => unprofiled.delete(r.index));
    if (toCheck.length > 0) void up.then(() => publishFor(toCheck));
    // A snapshot under this daemon's id for each agent it now runs, and the owner's registry, in the background.
    // The registry's list is read again once the claims are out (seconds later with thousands): not held meanwhile.
    void sweeping(snapshots.start(records, () => storage.agents.list(), { after: up })).catch((error: unknown) => logger.log({ level: 'warn', ns: 'snapshot', msg: 'start snapshots failed', error: (error as Error).message }));
  };
  const leases = (leaseRef.current = new LeaseManager({
    store: storage.leases,
    daemonId,
    ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
    ...(options.capacity !== undefined ? { capacity: options.capacity } : {}),
    ...(options.shard ? { shard: options.shard } : {}),
    logger,
    callbacks: {
      // Agents still waiting for their split-brain verdict are taken on once it is in (checkAgents).
      gained: async (gained) => {
        noLeaseGained = false;
        const now: Lease[] = [];
        for (const lease of gained) {
          if (unchecked.has(lease.agentIndex)) deferred.set(lease.agentIndex, lease);
          else now.push(lease);
        }
        await takeOn(now);
      },
      lost: async (indexes) => {
        for (const i of indexes) deferred.delete(i);
        for (const i of indexes) {
          const pubkey = directory.get(i)?.pubkey;
          if (pubkey) inbox.removeAgent(pubkey);
        }
        await runtime.release(indexes, { abort: true });
        await triggers.refresh();
      },
      releasing: async (indexes) => {
        for (const i of indexes) deferred.delete(i);
        await runtime.release(indexes);
        for (const i of indexes) {
          const pubkey = directory.get(i)?.pubkey;
          if (pubkey) inbox.removeAgent(pubkey);
        }
        if (!stopping) await triggers.refresh();
      },
      cursorOf: (index) => {
        const pubkey = directory.get(index)?.pubkey;
        return pubkey ? inbox.cursorOf(pubkey) : undefined;
      },
      busy: (index) => runtime.busy(index),
      // Rows another daemon queued for an agent this one holds (an overlap in a handover) are picked up.
      passed: (held) => runtime.rescan(held),
    },
  }));

  await runtime.start();
  await inbox.start();
  triggers.watches.start();
  // The outbox starts with the daemon up: what a stop left pending (with thousands of agents, their
  // final snapshots) is background work, and reading it held up the start.
  void up.then(() => {
    if (!stopping) publisher.start();
  });
  await leases.start();
  // A lease gained during the start refreshed the watches already (one read of every agent each, at 10,000 agents ~0.1 s).
  if (noLeaseGained) await triggers.refresh();

  const handler = createControlHandler({
    storage,
    runtime,
    prepareBehavior: (behavior) => registerModuleBehaviors(behaviors, [behavior]),
    owner,
    pool,
    defaultRelays: defaultRelays(home.config),
    onCreated: (record) => {
      directory.note(record);
      ring.reserve(record.index + 1);
      // Claimed by whichever daemon's pass comes first (its snapshot follows the claim); this one tries at once.
      void leases.cycle().catch(() => {});
    },
    onTerminated: (record) => {
      inbox.removeAgent(record.pubkey);
      void triggers.refresh();
      void storage.agents.list().then((all) => snapshots.registry(all));
    },
  });
  const token = controlToken(home.paths.controlToken);
  const stop = (stopOptions: { signal?: AbortSignal } = {}): Promise<void> =>
    (stopping ??= (async () => {
      background.abort();
      rmSync(home.paths.controlInfo, { force: true });
      await servers.control?.close();
      await servers.metrics?.close();
      await servers.hooks?.close();
      await inbox.stop();
      await triggers.watches.stop();
      await runtime.stop(stopOptions);
      // After the last tick: each agent's final snapshot, queued before the outbox's last run.
      await snapshots.stop();
      // Drain what is due (final snapshots are several events per agent) through the window, for at most 10 s.
      await publisher.drain(Date.now() + 10_000).catch(() => {});
      // Last: the leases are renewed while ticks finish, then handed back at once with their cursors.
      await leases.stop();
      await publisher.stop();
      await pool.close();
      await storage.close();
    })());
  // A listener that cannot start (port in use) stops everything started so far.
  const listen = async <T>(what: string, start: () => Promise<T>): Promise<T> => {
    try {
      return await start();
    } catch (error) {
      await stop({ signal: AbortSignal.abort() });
      throw new Error(`cannot listen for ${what}: ${(error as Error).message}`, { cause: error });
    }
  };
  const control = (servers.control = await listen('the control API', () => startControlServer({ handler, token, port: home.config.control.port, ops, triggers: triggers.admin })));
  const metricsAt = options.metrics ?? home.config.metrics;
  if (metricsAt) {
    const host = metricsAt.host ?? '127.0.0.1';
    servers.metrics = await listen(`metrics on ${host}:${metricsAt.port}`, () => startOpsServer({ ops, host, port: metricsAt.port }));
  }
  const hooksAt = options.hooks ?? home.config.hooks;
  if (hooksAt) {
    const host = hooksAt.host ?? '127.0.0.1';
    const limits = home.config.hooks;
    servers.hooks = await listen(`webhooks on ${host}:${hooksAt.port}`, () =>
      startHooksServer({
        handler: triggers.hooks,
        host,
        port: hooksAt.port,
        ...(limits ? { maxBodyBytes: limits.maxBodyBytes, rate: { capacity: limits.perMinute, windowMs: 60_000 } } : {}),
      }),
    );
  }
  const metricsServer = servers.metrics;
  const hooksServer = servers.hooks;
  const info: ControlInfo = {
    url: control.url,
    pid: process.pid,
    startedAt: Date.now(),
    ...(metricsServer ? { metricsUrl: metricsServer.url } : {}),
    ...(hooksServer ? { hooksUrl: hooksServer.url } : {}),
  };
  writeFileSync(home.paths.controlInfo, `${JSON.stringify(info)}\n`, { mode: 0o600 });
  // Background work waiting for the start (profile checks, start claims) begins after this turn, once the caller has said it is ready.
  setImmediate(running);
  void sweeping(up.then(checkAgents));
  logger.log({ level: 'info', ns: 'daemon', msg: 'running', agents: hosted.length, relays: [...listenRelays].join(' '), control: control.url, ...(metricsServer ? { metrics: metricsServer.url } : {}), ...(hooksServer ? { hooks: hooksServer.url } : {}) });

  return {
    runtime,
    storage,
    control,
    ...(metricsServer ? { metricsServer } : {}),
    ...(hooksServer ? { hooksServer } : {}),
    ownerPubkey: owner.getPublicKey(),
    agents: everyone.length,
    leases,
    relays: () => [...listenRelays],
    stop,
  };
}
