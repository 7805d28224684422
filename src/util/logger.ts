/**
 * The Logger seam: structured records, one per line. Secrets never go in: callers log public keys,
 * event ids and counts, never private keys, mnemonics or decrypted message bodies at info level.
 * The JSON form (`log.json: true`, `--log-json`) is one object per line with the stable fields
 * listed in the README (`time`, `level`, `ns`, `msg`, then the record's own fields).
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
/** Fields a text line leaves out when its message already says them (the tick summary line). */
const SUMMARY_KEYS = new Set(['agent', 'seq', 'trigger', 'outcome']);

/** A field value as JSON can carry it: errors as their message, bigints as strings. */
function plain(_key: string, value: unknown): unknown {
  if (value instanceof Error) return value.message;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** The JSON line of a record: `time` first, then level, ns, msg and the fields; never throws. */
export function jsonLine(record: LogRecord, now: Date = new Date()): string {
  const { level, ns, msg, ...rest } = record;
  try {
    return JSON.stringify({ time: now.toISOString(), level, ns, msg, ...rest }, plain);
  } catch {
    // A circular field: keep the record's envelope rather than lose the line.
    return JSON.stringify({ time: now.toISOString(), level, ns, msg, unserializable: Object.keys(rest) });
  }
}

/** The human line of a record: `time level [ns] msg key=value …`. */
export function textLine(record: LogRecord, now: Date = new Date()): string {
  const { level, ns, msg, ...rest } = record;
  const fields = Object.entries(rest)
    .filter(([k, v]) => !(SUMMARY_KEYS.has(k) && msg.includes(String(v))))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, plain)}`)
    .join(' ');
  return `${now.toISOString()} ${level.padEnd(5)} [${ns}] ${msg}${fields ? ` ${fields}` : ''}`;
}

/** Lines on stderr at or above `level`: human-readable, or one JSON object per line. */
export function stderrLogger(level: LogLevel = 'info', json = false): Logger {
  return {
    log(record) {
      if (ORDER[record.level] < ORDER[level]) return;
      process.stderr.write(`${json ? jsonLine(record) : textLine(record)}\n`);
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
