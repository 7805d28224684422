/**
 * Writing events: duplicates, NIP-09 tombstones, replaceable/addressable supersession, the tag and FTS
 * index. Every function here runs inside the caller's transaction, with statements prepared once.
 */
import type Database from 'better-sqlite3';
import type { NostrEvent } from '../src/protocol/event.js';
import { Kind } from '../src/protocol/kinds.js';
import { addressKey, expirationOf, indexedTags, isSearchable } from './event-meta.js';

/** How a save ended: stored, already there, beaten by a newer replaceable version, or deleted by its author earlier. */
export type SaveStatus = 'saved' | 'duplicate' | 'superseded' | 'deleted';

/** The prepared statements of the write path. */
export class Writer {
  readonly exists: Database.Statement<[string], { seq: number }>;
  readonly insertEvent: Database.Statement<[string, string, number, number, string | null, number | null, string]>;
  readonly insertTag: Database.Statement<[number, string, string, number]>;
  readonly insertFts: Database.Statement<[number, string]>;
  readonly sameAddress: Database.Statement<[string, number, string], { seq: number; id: string; created_at: number }>;
  readonly deletedById: Database.Statement<[string, string], { one: number }>;
  readonly deletedByAddress: Database.Statement<[string, string, number], { one: number }>;
  readonly deletedWrap: Database.Statement<[string, string], { one: number }>;
  readonly byId: Database.Statement<[string], { seq: number; pubkey: string; kind: number }>;
  readonly hasTag: Database.Statement<[number, string, string], { one: number }>;
  readonly addressBefore: Database.Statement<[string, number, string, number], { seq: number }>;
  readonly expired: Database.Statement<[number], { seq: number }>;
  private readonly delEvent: Database.Statement<[number]>;
  private readonly delTags: Database.Statement<[number]>;
  private readonly delFts: Database.Statement<[number]>;

  constructor(db: Database.Database) {
    this.exists = db.prepare('SELECT seq FROM events WHERE id = ?');
    this.insertEvent = db.prepare(
      'INSERT INTO events (id, pubkey, created_at, kind, d_tag, expiration, raw) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertTag = db.prepare('INSERT OR IGNORE INTO tags (seq, name, value, created_at) VALUES (?, ?, ?, ?)');
    this.insertFts = db.prepare('INSERT INTO events_fts (rowid, content) VALUES (?, ?)');
    this.sameAddress = db.prepare('SELECT seq, id, created_at FROM events WHERE pubkey = ? AND kind = ? AND d_tag = ?');
    // A kind 5 by `pubkey` naming this id in an `e` tag.
    this.deletedById = db.prepare(
      `SELECT 1 AS one FROM tags t JOIN events d ON d.seq = t.seq
       WHERE t.name = 'e' AND t.value = ? AND d.kind = 5 AND d.pubkey = ? LIMIT 1`,
    );
    // A kind 5 by the author naming this address in an `a` tag, at or after the version's created_at.
    this.deletedByAddress = db.prepare(
      `SELECT 1 AS one FROM tags t JOIN events d ON d.seq = t.seq
       WHERE t.name = 'a' AND t.value = ? AND d.kind = 5 AND d.pubkey = ? AND d.created_at >= ? LIMIT 1`,
    );
    // NIP-09: a gift wrap's recipient may delete their copy: a kind 5 naming the id by one of its `p` pubkeys.
    this.deletedWrap = db.prepare(
      `SELECT 1 AS one FROM tags t JOIN events d ON d.seq = t.seq
       WHERE t.name = 'e' AND t.value = ? AND d.kind = 5 AND d.pubkey IN (SELECT value FROM json_each(?)) LIMIT 1`,
    );
    this.byId = db.prepare('SELECT seq, pubkey, kind FROM events WHERE id = ?');
    this.hasTag = db.prepare('SELECT 1 AS one FROM tags WHERE seq = ? AND name = ? AND value = ?');
    this.addressBefore = db.prepare(
      'SELECT seq FROM events WHERE pubkey = ? AND kind = ? AND d_tag = ? AND created_at <= ?',
    );
    this.expired = db.prepare('SELECT seq FROM events WHERE expiration IS NOT NULL AND expiration <= ?');
    this.delEvent = db.prepare('DELETE FROM events WHERE seq = ?');
    this.delTags = db.prepare('DELETE FROM tags WHERE seq = ?');
    this.delFts = db.prepare('DELETE FROM events_fts WHERE rowid = ?');
  }

  /** Removes one stored event and its index rows. */
  remove(seq: number): void {
    this.delEvent.run(seq);
    this.delTags.run(seq);
    this.delFts.run(seq);
  }
}

/** True when a stored NIP-09 request from an entitled pubkey already deleted this event. */
function wasDeleted(w: Writer, event: NostrEvent, dTag: string | null): boolean {
  if (event.kind === Kind.Deletion) return false; // deleting a deletion has no effect
  if (w.deletedById.get(event.id, event.pubkey)) return true;
  if (event.kind === Kind.GiftWrap) {
    const recipients = event.tags.filter((t) => t[0] === 'p' && t[1] !== undefined).map((t) => t[1]);
    if (recipients.length > 0 && w.deletedWrap.get(event.id, JSON.stringify(recipients))) return true;
  }
  if (dTag !== null && w.deletedByAddress.get(`${event.kind}:${event.pubkey}:${dTag}`, event.pubkey, event.created_at)) {
    return true;
  }
  return false;
}

/** Saves one verified event (inside a transaction) and applies it if it is a NIP-09 deletion request. */
export function saveEvent(w: Writer, event: NostrEvent, raw: string): SaveStatus {
  if (w.exists.get(event.id)) return 'duplicate';
  const dTag = addressKey(event);
  if (wasDeleted(w, event, dTag)) return 'deleted';
  if (dTag !== null) {
    for (const old of w.sameAddress.all(event.pubkey, event.kind, dTag)) {
      const oldWins = old.created_at > event.created_at || (old.created_at === event.created_at && old.id < event.id);
      if (oldWins) return 'superseded';
    }
    for (const old of w.sameAddress.all(event.pubkey, event.kind, dTag)) w.remove(old.seq);
  }
  const expiration = expirationOf(event);
  const info = w.insertEvent.run(
    event.id,
    event.pubkey,
    event.created_at,
    event.kind,
    dTag,
    expiration === undefined || Number.isNaN(expiration) ? null : expiration,
    raw,
  );
  const seq = Number(info.lastInsertRowid);
  for (const [name, value] of indexedTags(event)) w.insertTag.run(seq, name, value, event.created_at);
  if (isSearchable(event)) w.insertFts.run(seq, event.content);
  if (event.kind === Kind.Deletion) applyDeletion(w, event);
  return 'saved';
}

/**
 * NIP-09: removes what a deletion request names. `e` targets go when the requester wrote them (or, for a
 * gift wrap, is named in its `p` tag); `a` targets go up to the request's created_at. Deletions are not deletable.
 */
export function applyDeletion(w: Writer, request: NostrEvent): number {
  let removed = 0;
  for (const tag of request.tags) {
    const [name, value] = tag;
    if (value === undefined) continue;
    if (name === 'e') {
      const target = w.byId.get(value);
      if (!target || target.kind === Kind.Deletion) continue;
      const entitled =
        target.pubkey === request.pubkey ||
        (target.kind === Kind.GiftWrap && w.hasTag.get(target.seq, 'p', request.pubkey) !== undefined);
      if (!entitled) continue;
      w.remove(target.seq);
      removed++;
    } else if (name === 'a') {
      const match = /^(\d+):([0-9a-f]{64}):(.*)$/s.exec(value);
      if (!match || match[2] !== request.pubkey) continue;
      const kind = Number(match[1]);
      if (kind === Kind.Deletion) continue;
      for (const old of w.addressBefore.all(request.pubkey, kind, match[3] ?? '', request.created_at)) {
        w.remove(old.seq);
        removed++;
      }
    }
  }
  return removed;
}
