/**
 * Facts on Postgres with its own text search: a tsvector per fact (text weighted A, tags B) under a
 * GIN index, queried with to_tsquery in the `agent_fts` configuration (English snowball stemming,
 * no stopwords) and ranked by ts_rank with FTS5's column weights (text 1, tags 0.5).
 *
 * To give the answers FTS5 gives, the text is cut the way FTS5's unicode61 tokenizer cuts it before
 * Postgres sees it: lowercased, diacritics folded, split into runs of letters and digits joined by
 * single spaces (so Postgres' parser finds no e-mail, URL or hyphenated forms). User words never
 * reach to_tsquery raw: they become the same runs, joined by | or &, so no operator survives.
 */
import type { Fact } from '../agent-types.js';
import { StorageInputError } from '../errors.js';
import { MAX_FACT_LENGTH, searchTerms } from '../sqlite/fact-store.js';
import type { Ex } from './executor.js';
import { limitOrAll, parseJsonColumn } from './json.js';

/** A facts row as listFacts selects it. */
export interface FactRow {
  id: number;
  text: string;
  tags_json: string;
  created_at: number;
}

/** Folds diacritics as unicode61's remove_diacritics does (é → e, ü → u), after lowercasing. */
export function foldText(text: string): string {
  return text.toLowerCase().normalize('NFKD').replace(/\p{M}+/gu, '').normalize('NFC');
}

/** The indexable form of a text: its letter/digit runs, folded, one space apart. */
export function searchableText(text: string): string {
  return Array.from(foldText(text).matchAll(/[\p{L}\p{N}]+/gu), (m) => m[0]).join(' ');
}

/** The query terms: searchTerms (the SQLite store's cut) folded the same way as the indexed text. */
function queryTerms(words: string): string[] {
  return [...new Set(searchTerms(words).flatMap((t) => searchableText(t).split(' ')).filter((t) => t !== ''))];
}

/** The SQL expression building a fact's tsvector from its text ($a) and tags ($b). */
function vector(a: string, b: string): string {
  return `setweight(to_tsvector('agent_fts', ${a}), 'A') || setweight(to_tsvector('agent_fts', ${b}), 'B')`;
}

/** Inserts one fact row (also used by snapshot import); returns its id. */
export async function insertFact(ex: Ex, agentIndex: number, text: string, tags: string[], createdAt: number): Promise<number> {
  const row = await ex.one<{ id: number }>(
    `INSERT INTO facts (agent_index, text, tags_json, created_at, search) VALUES ($1, $2, $3, $4, ${vector('$5', '$6')}) RETURNING id`,
    [agentIndex, text, JSON.stringify(tags), createdAt, searchableText(text), searchableText(tags.join(' '))],
  );
  return row!.id;
}

/** Stores a fact for the agent. */
export async function addFact(ex: Ex, agentIndex: number, text: string, tags: string[], now: number): Promise<Fact> {
  const clean = text.trim();
  if (clean === '') throw new StorageInputError('a fact must not be empty');
  if (clean.length > MAX_FACT_LENGTH) throw new StorageInputError(`a fact is ${clean.length} characters; the limit is ${MAX_FACT_LENGTH}`);
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new StorageInputError('fact tags must be strings');
  const id = await insertFact(ex, agentIndex, clean, tags, now);
  return { id, text: clean, tags, createdAt: now };
}

/** The agent's facts matching any of the words, best first; `rank` is minus ts_rank (lower is better, as bm25). */
export async function searchFacts(ex: Ex, agentIndex: number, words: string, limit = 10): Promise<Array<Fact & { rank: number }>> {
  const terms = queryTerms(words);
  if (terms.length === 0) return [];
  const rows = await ex.rows<FactRow & { score: number }>(
    `SELECT id, text, tags_json, created_at, ts_rank('{0, 0, 0.5, 1}', search, q) AS score
     FROM facts, to_tsquery('agent_fts', $2) AS q
     WHERE agent_index = $1 AND search @@ q
     ORDER BY score DESC, id DESC LIMIT $3`,
    [agentIndex, terms.join(' | '), limit],
  );
  return rows.map((r) => ({ ...toFact(r), rank: -r.score }));
}

/** Deletes the agent's facts containing ALL the words; returns how many (0 when no words). */
export async function forgetFacts(ex: Ex, agentIndex: number, words: string): Promise<number> {
  const terms = queryTerms(words);
  if (terms.length === 0) return 0;
  return ex.count(`DELETE FROM facts WHERE agent_index = $1 AND search @@ to_tsquery('agent_fts', $2)`, [agentIndex, terms.join(' & ')]);
}

/** Deletes one of the agent's facts by id. */
export async function forgetFact(ex: Ex, agentIndex: number, id: number): Promise<boolean> {
  return (await ex.count(`DELETE FROM facts WHERE agent_index = $1 AND id = $2`, [agentIndex, id])) > 0;
}

/** One of the agent's facts by id. */
export async function getFact(ex: Ex, agentIndex: number, id: number): Promise<Fact | undefined> {
  const row = await ex.one<FactRow>(`SELECT id, text, tags_json, created_at FROM facts WHERE agent_index = $1 AND id = $2`, [agentIndex, id]);
  return row ? toFact(row) : undefined;
}

/** The agent's facts, newest first. */
export async function listFacts(ex: Ex, agentIndex: number, limit?: number): Promise<Fact[]> {
  const rows = await ex.rows<FactRow>(`SELECT id, text, tags_json, created_at FROM facts WHERE agent_index = $1 ORDER BY id DESC LIMIT $2`, [agentIndex, limitOrAll(limit)]);
  return rows.map(toFact);
}

/** A fact from its row. */
export function toFact(row: FactRow): Fact {
  return { id: row.id, text: row.text, tags: parseJsonColumn<string[]>(row.tags_json, 'facts.tags_json'), createdAt: row.created_at };
}
