/**
 * The Logger seam: structured records, one per line. Secrets never go in: callers log public keys,
 * event ids and counts, never private keys, mnemonics or decrypted message bodies at info level.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One log record. `ns` names the component (`relay`, `pool`, `runtime`, …). */
export interface LogRecord {
  level: LogLevel;
  ns: string;
  msg: string;
  [field: string]: unknown;
}

/** Where log records go. */
export interface Logger {
  log(record: LogRecord): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Human-readable lines on stderr at or above `level`. */
export function stderrLogger(level: LogLevel = 'info', json = false): Logger {
  return {
    log(record) {
      if (ORDER[record.level] < ORDER[level]) return;
      if (json) {
        process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
        return;
      }
      const { level: lv, ns, msg, ...rest } = record;
      const fields = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      process.stderr.write(`${new Date().toISOString()} ${lv.padEnd(5)} [${ns}] ${msg}${fields ? ` ${fields}` : ''}\n`);
    },
  };
}

/** Keeps records in an array (for tests). */
export class ArrayLogger implements Logger {
  readonly records: LogRecord[] = [];
  log(record: LogRecord): void {
    this.records.push(record);
  }
}

/** Drops everything. */
export const silentLogger: Logger = { log: () => {} };
