/** Test fixtures for storage tests: a temp dir of real SQLite files, closed and removed afterwards. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/storage/sqlite/database.js';
import { finalizeEvent } from '../../src/protocol/crypto.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import type { NostrEvent } from '../../src/protocol/event.js';

/** A temp directory plus every Db opened in it; `cleanup()` closes them and deletes the dir. */
export function tempDbs(): { dir: string; open(name?: string): Db; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'storage-test-'));
  const opened: Db[] = [];
  return {
    dir,
    open(name = 'agents.db') {
      const db = openDatabase(join(dir, name));
      opened.push(db);
      return db;
    },
    cleanup() {
      for (const db of opened) if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fixed throwaway key (not anyone's real key). */
export const TEST_SECRET = hexToBytes('7f7ff03d123792d6ac594bfa67bf6d0c0ab55b6b1fdb6249303fe861f1ccba9a');

/** A real signed kind-1 event with the given content. */
export function signedNote(content: string, createdAt = 1_700_000_000): NostrEvent {
  return finalizeEvent({ kind: 1, created_at: createdAt, tags: [], content }, TEST_SECRET);
}
