/**
 * The snapshot publisher over a real SQLite database: changes in a burst give one snapshot per
 * interval, nothing changed gives none (unless final), a new fact re-signs only its chunk, and the
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

  it('writes once per interval for a burst of changes, and nothing when nothing changed', async () => {
    expect(await publisher.write(0)).toBeGreaterThan(1);
    expect(await publisher.write(0)).toBe(0);
    for (let i = 0; i < 5; i++) {
      await storage.facts(0).add(`fact ${i}`);
      publisher.changed(0);
    }
    // The burst waits for the interval since the last write, then goes as one snapshot.
    expect(queued).toHaveLength(1);
    for (let waited = 0; queued.length < 2 && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    expect(queued).toHaveLength(2);
    // One snapshot with all five facts; the facts chunk and the manifest only.
    const second = queued[1]!;
    expect(second.map((q) => tagValue(q.event, 'd'))).toEqual([`${MANIFEST_D}/facts/0`, MANIFEST_D]);
    expect(JSON.parse(plaintexts(second)[0]!)).toHaveLength(5);
    // A final snapshot is written even when nothing changed: a new manifest that says so.
    expect(await publisher.write(0, { final: true })).toBe(1);
    expect(JSON.parse(plaintexts(queued[2]!)[0]!)).toMatchObject({ final: true, generation: 3 });
  });

  it('forgets a write time once its interval is over: a dormant agent keeps nothing here, and a change then goes at once', async () => {
    expect(await publisher.write(0)).toBeGreaterThan(1);
    expect(publisher.recentWrites).toBe(1);
    for (let waited = 0; publisher.recentWrites > 0 && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(publisher.recentWrites).toBe(0);
    await storage.facts(0).add('after the interval');
    publisher.changed(0);
    for (let waited = 0; queued.length < 2 && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(queued).toHaveLength(2);
    expect(queued[1]!.map((q) => tagValue(q.event, 'd'))).toEqual([`${MANIFEST_D}/facts/0`, MANIFEST_D]);
    expect(publisher.recentWrites).toBe(1);
    await publisher.stop([]);
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
