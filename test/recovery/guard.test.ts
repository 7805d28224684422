/** The daemon's split-brain check (guardAgents) against a real relay-dev: a stopping daemon's check ends quietly. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRelay } from '../../relay-dev/index.js';
import { WsRelayPool } from '../../src/relay/relay-pool.js';
import { guardAgents } from '../../src/recovery/guard.js';
import { poolReader } from '../../src/recovery/pool-reader.js';
import { SnapshotStateFile } from '../../src/recovery/state.js';
import { openStorage, sqliteUrl } from '../../src/storage/open.js';
import type { AgentStorage } from '../../src/storage/types.js';
import type { LogRecord } from '../../src/util/logger.js';
import { startTestRelay, stopAll } from '../helpers/daemon.js';
import { accountSigner } from './helpers.js';

let relay: RunningRelay;
let pool: WsRelayPool;
let storage: AgentStorage;
let dir: string;

beforeAll(async () => {
  relay = await startTestRelay();
  pool = new WsRelayPool({ relays: [relay.url], pingIntervalMs: 0 });
  dir = mkdtempSync(join(tmpdir(), 'guard-test-'));
  storage = await openStorage(sqliteUrl(join(dir, 'agents.db')));
});
afterAll(async () => {
  await storage.close();
  await pool.close();
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('guardAgents', () => {
  it('runs agents whose heads are on no relay, and says nothing about any once its signal is aborted (a daemon stopping mid-check)', async () => {
    const state = new SnapshotStateFile(join(dir, 'snapshots.json'));
    const reader = poolReader(pool, { timeoutMs: 5000 });
    const agents = [0, 1, 2].map((index) => ({ index, name: `bot${index}`, signer: accountSigner(index + 1), reader }));
    const lines: LogRecord[] = [];
    const logger = { log: (record: LogRecord) => void lines.push(record) };
    expect(await guardAgents({ storage, state, agents, logger })).toEqual(new Set());
    expect(lines).toEqual([]);
    const stopping = new AbortController();
    stopping.abort();
    expect(await guardAgents({ storage, state, agents, logger, signal: stopping.signal })).toEqual(new Set());
    expect(lines).toEqual([]);
  });
});
