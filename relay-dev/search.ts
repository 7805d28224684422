/**
 * NIP-50 search: a human query becomes FTS5 terms (all must match), and the same terms match live events.
 * `key:value` words are NIP-50 extensions; none are supported, so they are ignored as the NIP asks.
 */

const WORD = /[\p{L}\p{N}]+/gu;

function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
}

/** The search words of a NIP-50 query (lowercased, accents folded, extensions dropped). */
export function searchTerms(query: string): string[] {
  const words = query
    .split(/\s+/)
    .filter((word) => word !== '' && !/^[^:\s]+:[^:\s]+$/.test(word))
    .join(' ');
  return [...new Set(fold(words).match(WORD) ?? [])];
}

/** An FTS5 MATCH expression requiring every term (each quoted, so no FTS syntax leaks in). */
export function ftsExpression(terms: readonly string[]): string {
  return terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(' AND ');
}

/** True when content contains every term as a word, the way the FTS5 index would match it. */
export function contentMatches(content: string, terms: readonly string[]): boolean {
  if (terms.length === 0) return false;
  const words = new Set(fold(content).match(WORD) ?? []);
  return terms.every((term) => words.has(term));
}
