/**
 * Counts what a PostgreSQL engine sends: the first words of every statement passed to
 * `pg.Client#query` from the call on (BEGIN, SAVEPOINT and COMMIT included), until the test's
 * `vi.restoreAllMocks()`.
 */
import pg from 'pg';
import { vi } from 'vitest';

/** The first three words of every statement sent from now on. */
export function recordStatements(): string[] {
  const sent: string[] = [];
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  vi.spyOn(proto, 'query').mockImplementation(function (this: unknown, ...args: unknown[]) {
    const query = args[0] as string | { text: string };
    sent.push((typeof query === 'string' ? query : query.text).trim().split(/\s+/).slice(0, 3).join(' '));
    return original.apply(this, args);
  });
  return sent;
}
