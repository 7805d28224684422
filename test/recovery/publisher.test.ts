/**
 * The snapshot publisher over a real SQLite database: changes in a burst give one snapshot an
 * interval after the first (a new agent's first one at once), nothing changed gives none (unless
 * final), a new fact re-signs only its chunk, awake and resting are the same snapshot, and the
 * config's credentials (LLM API key, MCP env and header values) never reach a snapshot.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tagValue, type NostrEvent } from '../../src/protocol/event.js';
import { MANIFEST_D } from '../../src/recovery/format.js';
import { SnapshotPublisher, type QueuedEvent } from '../../src/recovery/publisher.js';
import { SnapshotStateFile } from '../../src/recovery/state.js';
import { openStorage, sqliteUrl } from '../../src/storage/open.js';
import type { AgentStorage } from '../../src/storage/types.js';
import { accountSigner } from './helpers.js';

const API_KEY = 'sk-live-0123456789abcdef0123456789abcdef';
const MCP_TOKEN = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';

describe('snapshot publisher', () => {
  let dir: string;
  let storage: AgentStorage;
  let queued: QueuedEvent[][];
  let publisher: SnapshotPublisher;
  const agent = accountSigner(1);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'snapshot-publisher-'));
    storage = await openStorage(sqliteUrl(join(dir, 'agents.db')));
    await storage.agents.create({
      name: 'bot',
      behavior: 'llm',
      pubkey: agent.getPublicKey(),
      now: Date.now(),
      config: {
        behavior: 'llm',
        relays: ['ws://127.0.0.1:1'],
        llm: { model: 'm', apiKey: API_KEY },
        mcp: { gh: { command: 'gh-mcp', env: { GITHUB_TOKEN: MCP_TOKEN } }, web: { url: 'https://mcp.example', headers: { Authorization: `Bearer ${MCP_TOKEN}` } } },
      },
    });
    queued = [];
    publisher = new SnapshotPublisher({
      storage,
      signerFor: () => agent,
      owner: accountSigner(0),
      state: new SnapshotStateFile(join(dir, 'snapshots.json')),
      enqueue: async (events) => void queued.push(events),
      intervalMs: 1000,
      chunkBytes: 2000,
      secrets: [],
    });
  });
  afterEach(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const plaintexts = (events: QueuedEvent[]): string[] => events.map(({ event }: { event: NostrEvent }) => agent.nip44.decrypt(agent.getPublicKey(), event.content));

  const waitFor = async (n: number): Promise<void> => {
    for (let waited = 0; queued.length < n && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  };

  it('folds a burst of changes into one snapshot an interval after the first, and writes nothing when nothing changed', async () => {
    expect(await publisher.write(0)).toBeGreaterThan(1);
    expect(await publisher.write(0)).toBe(0);
    for (let i = 0; i < 5; i++) {
      await storage.facts(0).add(`fact ${i}`);
      publisher.changed(0);
    }
    // The trailing edge: the first change waits for the interval, the others join it.
    expect(queued).toHaveLength(1);
    expect(publisher.pending).toBe(1);
    await waitFor(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(queued).toHaveLength(2);
    expect(publisher.pending).toBe(0);
    // One snapshot with all five facts; the facts chunk and the manifest only.
    const second = queued[1]!;
    expect(second.map((q) => tagValue(q.event, 'd'))).toEqual([`${MANIFEST_D}/facts/0`, MANIFEST_D]);
    expect(JSON.parse(plaintexts(second)[0]!)).toHaveLength(5);
    // A final snapshot is written even when nothing changed: a new manifest that says so.
    expect(await publisher.write(0, { final: true })).toBe(1);
    expect(JSON.parse(plaintexts(queued[2]!)[0]!)).toMatchObject({ final: true, generation: 3 });
  });

  it('writes the first snapshot of an agent it has none of at once (a restore finds the agent in the registry)', async () => {
    publisher.changed(0);
    await waitFor(1);
    expect(queued).toHaveLength(1);
    expect(queued[0]!.map((q) => tagValue(q.event, 'd'))).toContain(`${MANIFEST_D}/agent/0`);
    // The next change has a snapshot to wait behind: it goes an interval later.
    await storage.facts(0).add('later');
    publisher.changed(0);
    expect(publisher.pending).toBe(1);
    await waitFor(2);
    expect(queued[1]!.map((q) => tagValue(q.event, 'd'))).toEqual([`${MANIFEST_D}/facts/0`, MANIFEST_D]);
    await publisher.stop([]);
  });

  it('writes an awake agent as resting: waking and hibernating change no chunk', async () => {
    await publisher.write(0);
    expect(JSON.parse(plaintexts(queued[0]!)[0]!).state).toBe('creating');
    await storage.agents.updateState(0, 'dormant', { now: Date.now() });
    expect(await publisher.write(0)).toBe(2);
    expect(JSON.parse(plaintexts(queued[1]!)[0]!).state).toBe('dormant');
    await storage.agents.updateState(0, 'active', { now: Date.now() });
    expect(await publisher.write(0)).toBe(0);
    await storage.agents.updateState(0, 'dormant', { now: Date.now() });
    expect(await publisher.write(0)).toBe(0);
    await storage.agents.updateState(0, 'paused', { now: Date.now() });
    expect(await publisher.write(0)).toBe(2);
    expect(JSON.parse(plaintexts(queued[2]!)[0]!).state).toBe('paused');
  });

  it('leaves out the config credentials and says which', async () => {
    await publisher.write(0);
    const text = plaintexts(queued[0]!).join('');
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(MCP_TOKEN);
    const agentPart = JSON.parse(plaintexts(queued[0]!)[0]!);
    expect(agentPart.stripped).toEqual(['llm.apiKey', 'mcp.gh.env.GITHUB_TOKEN', 'mcp.web.headers.Authorization']);
    expect(agentPart.config.llm).toEqual({ model: 'm' });
    expect(agentPart.config.mcp.gh.command).toBe('gh-mcp');
  });
});
