/** Argument parsing on node:util parseArgs, with errors a user can act on. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  home: { type: 'string' },
  /** The database URL (sqlite:PATH or postgres://…); else AGENT_DATABASE_URL, config database.url, <home>/agents.db. */
  database: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

/** Parses argv against a spec; unknown flags and missing values become a UsageError naming the flag. */
export function parse<T extends OptionSpec>(
  argv: string[],
  options: T,
  allowPositionals = true,
): ReturnType<typeof parseArgs<{ args: string[]; options: typeof COMMON_OPTIONS & T; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args: joinNegativeValues(argv), options: { ...COMMON_OPTIONS, ...options }, allowPositionals, strict: true });
  } catch (cause) {
    const message = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new UsageError(message ?? 'invalid arguments', { cause });
  }
}

/**
 * `--agent -1` would read as two flags; join a negative number to its flag (`--agent=-1`) so the
 * value check can say what is wrong with it.
 */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const next = argv[i + 1];
    if (arg.startsWith('--') && !arg.includes('=') && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** Parses a non-negative integer flag value, naming the flag when it is not one. */
export function parseIndex(value: string, flag: string): number {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag} must be a non-negative integer, got "${value}"`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n >= 0x80000000) throw new UsageError(`${flag} is too large: ${value}`);
  return n;
}

/** Parses a positive number flag value (seconds, bytes, counts). */
export function parsePositive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, got "${value}"`);
  return n;
}
