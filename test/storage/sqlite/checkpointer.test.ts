import { afterEach, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_INTERVAL_MS, DEFAULT_AUTOCHECKPOINT_PAGES, FALLBACK_PAGES, WalCheckpointer, type CheckpointReport } from '../../../src/storage/sqlite/checkpointer.js';
import type { Db } from '../../../src/storage/sqlite/database.js';
import { SqliteAgentStorage } from '../../../src/storage/sqlite/sqlite-agent-storage.js';
import { ROOT } from '../../helpers/cli.js';
import { tempDbs } from '../helpers.js';

const pk = (n: number): string => n.toString(16).padStart(64, '0');
const temps: Array<ReturnType<typeof tempDbs>> = [];
const stops: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (stops.length) await stops.pop()!();
  while (temps.length) temps.pop()!.cleanup();
});

function temp(): ReturnType<typeof tempDbs> {
  const t = tempDbs();
  temps.push(t);
  return t;
}

/** ~4 KiB rows, so each commit puts pages of its own into the WAL. */
function writeRows(db: Db, from: number, count: number): void {
  const insert = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = from; i < from + count; i++) insert.run(`row-${i}`, 'x'.repeat(4000));
  })();
}

describe('WalCheckpointer', () => {
  it('checkpoints the writer’s commits from a worker thread; the writer’s own checkpoint waits for FALLBACK_PAGES', async () => {
    const t = temp();
    const db = t.open();
    const reports: CheckpointReport[] = [];
    const errors: string[] = [];
    const checkpointer = new WalCheckpointer(db, join(t.dir, 'agents.db'), { intervalMs: 10, onCheckpoint: (r) => reports.push(r), onError: (m) => errors.push(m) });
    stops.push(() => checkpointer.stop());
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(FALLBACK_PAGES);

    // 100 pages: under SQLite's default of 1,000, so without the worker nothing would checkpoint them.
    writeRows(db, 0, 100);
    await vi.waitFor(() => expect(reports.some((r) => !r.busy && r.walFrames >= 100 && r.checkpointedFrames === r.walFrames)).toBe(true), { timeout: 20_000, interval: 10 });
    expect(errors).toEqual([]);

    await checkpointer.stop();
    // Stopped: commits after it are not checkpointed by anyone but the writer.
    const seen = reports.length;
    writeRows(db, 100, 10);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reports.length).toBe(seen);
    expect(db.prepare('SELECT count(*) AS n FROM meta WHERE key LIKE ?').get('row-%')).toEqual({ n: 110 });
  });

  it('hands checkpoints back to the writer (SQLite’s default) when the worker cannot open the file', async () => {
    const t = temp();
    const db = t.open();
    const errors: string[] = [];
    const checkpointer = new WalCheckpointer(db, join(t.dir, 'missing', 'agents.db'), { onError: (m) => errors.push(m) });
    stops.push(() => checkpointer.stop());
    await vi.waitFor(() => expect(errors).toHaveLength(1), { timeout: 20_000, interval: 10 });
    expect(errors[0]).toMatch(/^WAL checkpoint worker failed: /);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(DEFAULT_AUTOCHECKPOINT_PAGES);
    // A stop after the failure returns.
    await checkpointer.stop();
  });
});

describe('SqliteAgentStorage with backgroundCheckpoints', () => {
  it('runs a checkpoint worker while open, and closes it first: the writer’s close is the last and removes the WAL', async () => {
    const t = temp();
    const file = join(t.dir, 'agents.db');
    const storage = SqliteAgentStorage.open(file, { backgroundCheckpoints: true });
    stops.push(() => storage.close());
    expect(storage.db.pragma('wal_autocheckpoint', { simple: true })).toBe(FALLBACK_PAGES);
    await storage.agents.create({ name: 'alice', behavior: 'echo', pubkey: pk(1), state: 'active', now: 1 });
    // Give the worker time to open its connection and look at least once.
    await new Promise((resolve) => setTimeout(resolve, CHECKPOINT_INTERVAL_MS * 2));
    expect(existsSync(`${file}-wal`)).toBe(true);
    await storage.close();
    expect(existsSync(`${file}-wal`)).toBe(false);

    const again = SqliteAgentStorage.open(file);
    stops.push(() => again.close());
    expect((await again.agents.get(0))?.name).toBe('alice');
    expect(again.db.pragma('wal_autocheckpoint', { simple: true })).toBe(DEFAULT_AUTOCHECKPOINT_PAGES);
  });

  it('starts no worker for an in-memory database', async () => {
    const storage = SqliteAgentStorage.open(':memory:', { backgroundCheckpoints: true });
    stops.push(() => storage.close());
    expect(storage.db.pragma('wal_autocheckpoint', { simple: true })).toBe(DEFAULT_AUTOCHECKPOINT_PAGES);
  });

  it('lets a process whose last work is closing the storage finish it (the worker is waited for, not left unreferenced)', () => {
    const t = temp();
    // A process of its own: under vitest other handles keep the loop alive. Nothing else pending, as at
    // the end of `agent run`: the stop waited for an unreferenced worker and Node exited with code 13.
    const script = [
      `const { openSqliteStorage } = await import(${JSON.stringify(`${ROOT}dist/src/storage/sqlite/open-sqlite.js`)});`,
      `const storage = await openSqliteStorage(${JSON.stringify(join(t.dir, 'agents.db'))}, { backgroundCheckpoints: true });`,
      'await storage.close();',
      "console.log('closed');",
    ].join('\n');
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect({ status: child.status, stdout: child.stdout.trim(), stderr: child.stderr.trim() }).toEqual({ status: 0, stdout: 'closed', stderr: '' });
  });
});
