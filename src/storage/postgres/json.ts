/** JSON columns: TEXT written by this layer, parsed back with a clear error naming a corrupt column. */

/** Parses a JSON column; a corrupt value names the column instead of crashing obscurely. */
export function parseJsonColumn<T>(text: string, column: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new Error(`corrupt JSON in column ${column}`, { cause });
  }
}

/** A LIMIT parameter: none (NULL, all rows) when undefined or negative, as SQLite reads LIMIT -1. */
export function limitOrAll(limit: number | undefined): number | null {
  return limit === undefined || limit < 0 ? null : limit;
}
