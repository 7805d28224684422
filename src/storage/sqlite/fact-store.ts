/**
 * Facts: short texts an agent remembers, searchable with SQLite FTS5 (porter stemming, diacritics
 * folded) and ranked by bm25. The user's words never reach MATCH raw: they are cut into terms and
 * quoted, so punctuation or FTS operators in a message cannot break or widen a query.
 */
import type { Fact } from '../agent-types.js';
import { StorageInputError } from '../errors.js';
import type { Db } from './database.js';
import { all, get, parseJsonColumn, run, sql } from './query.js';

interface FactRow {
  id: number;
  text: string;
  tags_json: string;
  created_at: number;
}

/** Longest fact accepted, in characters. */
export const MAX_FACT_LENGTH = 8192;
const MAX_TERMS = 32;

const INSERT = sql<[number, string, string, number]>(`INSERT INTO facts (agent_index, text, tags_json, created_at) VALUES (?, ?, ?, ?)`);
const BY_ID = sql<[number, number], FactRow>(`SELECT id, text, tags_json, created_at FROM facts WHERE agent_index = ? AND id = ?`);
const LIST = sql<[number, number], FactRow>(`
  SELECT id, text, tags_json, created_at FROM facts WHERE agent_index = ? ORDER BY id DESC LIMIT ?`);
// bm25 weights: agent_tag 0 (it only scopes), text 1, tags 0.5.
const SEARCH = sql<[string, number, number], FactRow & { rank: number }>(`
  SELECT f.id, f.text, f.tags_json, f.created_at, bm25(facts_fts, 0.0, 1.0, 0.5) AS rank
  FROM facts_fts JOIN facts f ON f.id = facts_fts.rowid
  WHERE facts_fts MATCH ? AND f.agent_index = ?
  ORDER BY rank, f.id DESC LIMIT ?`);
const FORGET = sql<[number, string]>(`
  DELETE FROM facts WHERE agent_index = ? AND id IN (SELECT rowid FROM facts_fts WHERE facts_fts MATCH ?)`);
const FORGET_ID = sql<[number, number]>(`DELETE FROM facts WHERE agent_index = ? AND id = ?`);

/** The search terms in free text: runs of letters and digits, lowercased, deduplicated, at most 32. */
export function searchTerms(words: string): string[] {
  const terms = new Set<string>();
  for (const match of words.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    terms.add(match[0]);
    if (terms.size >= MAX_TERMS) break;
  }
  return [...terms];
}

/** An FTS5 MATCH expression: this agent's rows AND (any | all) of the terms in text or tags. */
function matchExpression(agentIndex: number, terms: string[], join: 'OR' | 'AND'): string {
  return `agent_tag : "a${agentIndex}" AND {text tags} : (${terms.map((t) => `"${t}"`).join(` ${join} `)})`;
}

/** Stores a fact for the agent. */
export function addFact(db: Db, agentIndex: number, text: string, tags: string[], now: number): Fact {
  const clean = text.trim();
  if (clean === '') throw new StorageInputError('a fact must not be empty');
  if (clean.length > MAX_FACT_LENGTH) throw new StorageInputError(`a fact is ${clean.length} characters; the limit is ${MAX_FACT_LENGTH}`);
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new StorageInputError('fact tags must be strings');
  const id = Number(run(db, INSERT, agentIndex, clean, JSON.stringify(tags), now).lastInsertRowid);
  return { id, text: clean, tags, createdAt: now };
}

/** The agent's facts matching any of the words, best first (bm25; rank is lower for better). */
export function searchFacts(db: Db, agentIndex: number, words: string, limit = 10): Array<Fact & { rank: number }> {
  const terms = searchTerms(words);
  if (terms.length === 0) return [];
  return all(db, SEARCH, matchExpression(agentIndex, terms, 'OR'), agentIndex, limit).map((r) => ({ ...toFact(r), rank: r.rank }));
}

/** Deletes the agent's facts containing ALL the words; returns how many (0 when no words). */
export function forgetFacts(db: Db, agentIndex: number, words: string): number {
  const terms = searchTerms(words);
  if (terms.length === 0) return 0;
  return run(db, FORGET, agentIndex, matchExpression(agentIndex, terms, 'AND')).changes;
}

/** Deletes one of the agent's facts by id. */
export function forgetFact(db: Db, agentIndex: number, id: number): boolean {
  return run(db, FORGET_ID, agentIndex, id).changes > 0;
}

/** One of the agent's facts by id. */
export function getFact(db: Db, agentIndex: number, id: number): Fact | undefined {
  const row = get(db, BY_ID, agentIndex, id);
  return row ? toFact(row) : undefined;
}

/** The agent's facts, newest first. */
export function listFacts(db: Db, agentIndex: number, limit = -1): Fact[] {
  return all(db, LIST, agentIndex, limit).map(toFact);
}

function toFact(row: FactRow): Fact {
  return { id: row.id, text: row.text, tags: parseJsonColumn<string[]>(row.tags_json, 'facts.tags_json'), createdAt: row.created_at };
}
