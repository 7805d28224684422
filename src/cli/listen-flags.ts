/** The `--metrics-host/--metrics-port` (and, alike, `--hooks-host/--hooks-port`) flags of `agent run` and `agent up`. */
import { parseIndex } from './args.js';
import { UsageError } from './errors.js';

/** A listener asked for on the command line, or undefined when its port flag is absent. */
export function listenFlags(values: Record<string, unknown>, name: 'metrics' | 'hooks'): { host?: string; port: number } | undefined {
  const host = values[`${name}-host`];
  const port = values[`${name}-port`];
  if (port === undefined) {
    if (host !== undefined) throw new UsageError(`--${name}-host needs --${name}-port (0 picks a free port)`);
    return undefined;
  }
  const n = parseIndex(String(port), `--${name}-port`);
  if (n > 65535) throw new UsageError(`--${name}-port must be at most 65535, got ${n}`);
  return { ...(typeof host === 'string' ? { host } : {}), port: n };
}
