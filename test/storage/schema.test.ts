import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PAGE_CACHE_KIB, type Db } from '../../src/storage/sqlite/database.js';
import { MIGRATIONS } from '../../src/storage/sqlite/migrations.js';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';
import { RENEW_MANY } from '../../src/storage/sqlite/lease-store.js';
import { tempDbs } from './helpers.js';

const pk = (n: number): string => n.toString(16).padStart(64, '0');

/** The plan's detail lines for a query. */
function plan(db: Db, text: string, ...params: unknown[]): string {
  return (db.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
}

describe('schema and migrations', () => {
  let dbs: ReturnType<typeof tempDbs>;
  beforeEach(() => {
    dbs = tempDbs();
  });
  afterEach(() => dbs.cleanup());

  it('migrates once, reopens idempotently and keeps data, in WAL mode', async () => {
    const db = dbs.open();
    const latest = MIGRATIONS.at(-1)?.version;
    expect(db.pragma('user_version', { simple: true })).toBe(latest);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    // SQLite's own 2 MiB page cache, not the driver's 16 MiB (a daemon's RSS, docs/performance.md).
    expect(db.pragma('cache_size', { simple: true })).toBe(-PAGE_CACHE_KIB);
    const storage = new SqliteAgentStorage(db);
    await storage.agents.create({ name: 'keep', behavior: 'echo', pubkey: pk(1), now: 1 });
    await storage.kv(0).set('k', 'v');
    await storage.facts(0).add('persistent fact');
    db.close();
    for (let i = 0; i < 2; i++) {
      const again = new SqliteAgentStorage(dbs.open());
      expect(again.db.pragma('user_version', { simple: true })).toBe(latest);
      expect(await again.kv(0).get('k')).toBe('v');
      expect(await again.facts(0).search('persistent')).toHaveLength(1);
      expect((await again.agents.get('keep'))?.storageBytes).toBeGreaterThan(0);
      await again.close();
    }
  });

  it('gives outbox rows queued before the lanes existed their lane from the target (own rows background)', () => {
    const raw = new Database(join(dbs.dir, 'old.db'));
    for (const m of MIGRATIONS.filter((m) => m.version <= 4)) raw.exec(m.sql);
    raw.pragma('user_version = 4');
    const insert = raw.prepare(`INSERT INTO outbox (agent_pubkey, event_id, event_json, target_json, next_attempt_at, created_at, deadline_at) VALUES (?, ?, '{}', ?, 0, 0, 1)`);
    insert.run(pk(1), pk(11), JSON.stringify({ type: 'own' }));
    insert.run(pk(1), pk(12), JSON.stringify({ type: 'dm', recipient: pk(2) }));
    insert.run(pk(1), pk(13), JSON.stringify({ type: 'relays', relays: ['ws://127.0.0.1:1'] }));
    raw.close();
    const db = dbs.open('old.db');
    expect(db.prepare('SELECT event_id, lane FROM outbox ORDER BY id').all()).toEqual([
      { event_id: pk(11), lane: 1 },
      { event_id: pk(12), lane: 0 },
      { event_id: pk(13), lane: 0 },
    ]);
  });

  it('renews many leases by primary key, not by the daemon index with a scan of the fences per lease (quadratic)', () => {
    const db = dbs.open();
    const detail = plan(db, RENEW_MANY.sql, 0, '[]', 'd');
    expect(detail).toMatch(/SEARCH agent_leases USING INTEGER PRIMARY KEY/);
    expect(detail).not.toMatch(/agent_leases_daemon/);
  });

  it('uses indexes for the hot queries (no full scans as agents and rows grow)', () => {
    const db = dbs.open();
    const checks: Array<[string, string, unknown[]]> = [
      ['dueOutbox', `SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`, [0, 10]],
      ['pendingInbox', `SELECT * FROM inbox WHERE agent_index = ? AND status = 'pending' ORDER BY id LIMIT ?`, [0, 10]],
      ['agentsWithPending', `SELECT DISTINCT agent_index FROM inbox WHERE status = 'pending' ORDER BY agent_index`, []],
      ['agentsWithDueInbox', `SELECT DISTINCT agent_index FROM inbox WHERE status = 'pending' AND not_before <= ? ORDER BY agent_index`, [0]],
      ['dueSchedules', `SELECT * FROM schedules WHERE next_at <= ? ORDER BY next_at, id LIMIT ?`, [0, 10]],
      ['history', `SELECT * FROM messages WHERE agent_index = ? AND peer = ? ORDER BY at DESC, id DESC LIMIT ?`, [0, 'p', 10]],
      ['kvList', `SELECT key, value_json FROM kv WHERE agent_index = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?`, [0, 'a', 'b', 10]],
      ['lastTick', `SELECT record_json FROM ticks WHERE agent_index = ? ORDER BY seq DESC LIMIT 1`, [0]],
      ['processed', `SELECT 1 FROM processed_events WHERE event_id = ?`, ['x']],
      ['pruneProcessed', `DELETE FROM processed_events WHERE processed_at < ?`, [0]],
    ];
    for (const [name, text, params] of checks) {
      const detail = plan(db, text, ...params);
      expect(detail, `${name}: ${detail}`).toMatch(/USING (COVERING )?INDEX|USING PRIMARY KEY|USING INTEGER PRIMARY KEY/);
      expect(detail, `${name}: ${detail}`).not.toMatch(/^SCAN \w+$|\| SCAN \w+$|TEMP B-TREE/);
    }
    expect(plan(db, `SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`, 0, 1)).toContain('outbox_due');
    expect(plan(db, `SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? AND lane = ? ORDER BY next_attempt_at, id LIMIT ?`, 0, 0, 1)).toContain('outbox_lane_due');
    expect(plan(db, `SELECT * FROM inbox WHERE agent_index = ? AND status = 'pending' ORDER BY id LIMIT ?`, 0, 1)).toContain('inbox_pending');
    expect(plan(db, `SELECT DISTINCT agent_index FROM inbox WHERE status = 'pending' AND not_before <= ?`, 0)).toContain('COVERING INDEX inbox_pending');
    expect(plan(db, `SELECT * FROM schedules WHERE next_at <= ? ORDER BY next_at, id LIMIT ?`, 0, 1)).toContain('schedules_due');
  });
});
