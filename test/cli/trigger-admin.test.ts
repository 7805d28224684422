/** Watches and webhooks as stored changes to an agent's config: what is refused (and why), ids, secrets kept out of listings. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addHook, addWatch, listHooks, listWatches, removeHook, removeWatch } from '../../src/cli/trigger-admin.js';
import { parseAgentConfig } from '../../src/runtime/agent-config.js';
import { watchFilterProblem } from '../../src/runtime/watch.js';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';

let dir: string;
let storage: SqliteAgentStorage;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trigger-admin-'));
  storage = SqliteAgentStorage.open(join(dir, 'agents.db'));
  await storage.agents.create({ name: 'bot', behavior: 'echo', pubkey: () => 'a'.repeat(64), config: { relays: ['ws://127.0.0.1:7777'] }, state: 'dormant', now: 1 });
});
afterEach(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('watch filters', () => {
  it('must narrow by ids, authors or a tag, with bounded lists, and leave since/until/limit to the daemon', () => {
    expect(watchFilterProblem({ kinds: [1] })).toMatch(/too broad/);
    expect(watchFilterProblem({ search: 'deploy' })).toMatch(/too broad/);
    expect(watchFilterProblem({})).toMatch(/too broad/);
    expect(watchFilterProblem({ kinds: [1], '#t': ['deploy'] })).toBeUndefined();
    expect(watchFilterProblem({ authors: ['ab'.repeat(32)] })).toBeUndefined();
    expect(watchFilterProblem({ '#t': [] })).toMatch(/empty/);
    expect(watchFilterProblem({ authors: Array.from({ length: 257 }, (_, i) => i.toString(16).padStart(64, '0')) })).toMatch(/at most 256/);
    expect(watchFilterProblem({ '#t': ['x'], since: 5 })).toMatch(/"since" is set by the daemon/);
    expect(watchFilterProblem({ '#t': ['x'], limit: 5 })).toMatch(/"limit"/);
  });
});

describe('trigger admin', () => {
  it('adds watches with ids w1, w2…, refuses bad ones with a code, and removes them', async () => {
    const w1 = await addWatch(storage, 'bot', { filter: { kinds: [1], '#t': ['deploy'] }, prompt: 'report it' }, 100);
    expect(w1).toEqual({ id: 'w1', filter: { kinds: [1], '#t': ['deploy'] }, prompt: 'report it', createdAt: 100 });
    const w2 = await addWatch(storage, 'bot', { filter: { authors: ['cd'.repeat(32)] }, relays: ['wss://relay.example.com'], perMinute: 5 }, 200);
    expect(w2).toMatchObject({ id: 'w2', relays: ['wss://relay.example.com'], rate: { capacity: 5, windowMs: 60_000 } });
    expect((await listWatches(storage, 'bot')).map((w) => w.id)).toEqual(['w1', 'w2']);
    // The runtime reads them back from the config.
    expect(parseAgentConfig({ ...(await storage.agents.get('bot'))!.config, behavior: 'echo' }).watch.map((w) => w.id)).toEqual(['w1', 'w2']);

    const refused = async (fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (error) {
        return [(error as { code: string }).code, (error as { status: number }).status, (error as Error).message];
      }
      throw new Error('not refused');
    };
    expect(await refused(() => addWatch(storage, 'bot', { filter: { kinds: [1] } }, 1))).toEqual(['WATCH_INVALID', 400, expect.stringMatching(/too broad/)]);
    expect(await refused(() => addWatch(storage, 'bot', { filter: { nope: 1 } }, 1))).toEqual(['WATCH_INVALID', 400, expect.stringMatching(/not a NIP-01 filter.*unknown filter field "nope"/)]);
    expect(await refused(() => addWatch(storage, 'bot', { filter: { '#t': ['x'] }, relays: ['http://x'] }, 1))).toEqual(['WATCH_INVALID', 400, expect.stringMatching(/not a relay URL/)]);
    expect(await refused(() => addWatch(storage, 'bot', { id: 'w1', filter: { '#t': ['x'] } }, 1))).toEqual(['WATCH_INVALID', 409, expect.stringMatching(/already has a watch "w1"/)]);
    expect(await refused(() => addWatch(storage, 'ghost', { filter: { '#t': ['x'] } }, 1))).toEqual(['AGENT_NOT_FOUND', 404, 'no agent named "ghost"']);
    expect(await refused(() => removeWatch(storage, 'bot', 'w9', 1))).toEqual(['WATCH_NOT_FOUND', 404, 'agent "bot" has no watch "w9"']);
    expect((await removeWatch(storage, 'bot', 'w1', 300)).id).toBe('w1');
    expect((await listWatches(storage, 'bot')).map((w) => w.id)).toEqual(['w2']);
    expect((await addWatch(storage, 'bot', { filter: { '#t': ['y'] } }, 400)).id).toBe('w3');
  });

  it('adds webhooks with a fresh 64-hex secret shown once, never listed, unique per name', async () => {
    const hook = await addHook(storage, 'bot', { name: 'ci', prompt: 'tell me when red' }, 10);
    expect(hook.secret).toMatch(/^[0-9a-f]{64}$/);
    expect((await addHook(storage, 'bot', { name: 'pay' }, 11)).secret).not.toBe(hook.secret);
    expect(await listHooks(storage, 'bot')).toEqual([{ name: 'ci', prompt: 'tell me when red', createdAt: 10 }, { name: 'pay', createdAt: 11 }]);
    expect(JSON.stringify((await listHooks(storage, 'bot')))).not.toContain(hook.secret);
    await expect(addHook(storage, 'bot', { name: 'ci' }, 12)).rejects.toThrow(expect.objectContaining({ code: 'WEBHOOK_EXISTS', status: 409 }));
    await expect(addHook(storage, 'bot', { name: 'bad name!' }, 12)).rejects.toThrow(/invalid webhook/);
    expect(await removeHook(storage, 'bot', 'ci', 13)).toEqual({ name: 'ci', prompt: 'tell me when red', createdAt: 10 });
    await expect(removeHook(storage, 'bot', 'ci', 14)).rejects.toThrow(expect.objectContaining({ code: 'WEBHOOK_NOT_FOUND', status: 404 }));
  });
});
