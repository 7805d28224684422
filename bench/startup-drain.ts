/**
 * bench/startup's stand-in for a long outbox drain: once the daemon has stopped, every row still
 * pending in the home's outbox is published straight to relay-dev over one WebSocket (many in
 * flight) and recorded delivered through the storage API, as the daemon's publisher records an OK.
 * With 10,000 agents a start queues a claim per agent and a stop a final snapshot per agent (~8
 * events each): the daemon's own outbox takes many minutes for them, and a run that left them
 * undelivered makes the next start's split-brain check decrypt and verify every agent's manifest.
 * The home is then as after a drain: the events on the relay, the rows delivered.
 */
import WebSocket from 'ws';
import { openDatabase } from '../src/storage/sqlite/database.js';
import { SqliteAgentStorage } from '../src/storage/sqlite/sqlite-agent-storage.js';
import type { OutboxSettlement } from '../src/storage/types.js';

/** What one drain did. */
export interface DrainReport {
  /** Rows published and recorded delivered. */
  delivered: number;
  /** Rows the relay refused (left pending for the daemon). */
  refused: number;
  ms: number;
}

const IN_FLIGHT = 500;
const SETTLE_BATCH = 2000;

/** Publishes every pending row of the SQLite home database `dbFile` to `relayUrl` (the daemon must be stopped). */
export async function drainOutbox(dbFile: string, relayUrl: string, options: { timeoutMs?: number } = {}): Promise<DrainReport> {
  const t0 = performance.now();
  const rows = pendingRows(dbFile);
  if (rows.length === 0) return { delivered: 0, refused: 0, ms: 0 };
  const storage = SqliteAgentStorage.open(dbFile);
  const ws = new WebSocket(relayUrl, { maxPayload: 16 * 1024 * 1024 });
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const waiting = new Map<string, (ok: boolean) => void>();
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as unknown[];
      if (msg[0] !== 'OK') return;
      const done = waiting.get(msg[1] as string);
      waiting.delete(msg[1] as string);
      // "duplicate:" is an OK too: the relay has the event.
      done?.(msg[2] === true);
    });
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    let settlements: OutboxSettlement[] = [];
    let delivered = 0;
    let refused = 0;
    const flush = async (): Promise<void> => {
      const batch = settlements;
      settlements = [];
      if (batch.length > 0) await storage.outbox.settle(batch);
      delivered += batch.length;
    };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < rows.length) {
        if (Date.now() > deadline) throw new Error(`the outbox drain took over ${options.timeoutMs ?? 600_000} ms (${next} of ${rows.length} rows)`);
        const row = rows[next++]!;
        const eventId = (JSON.parse(row.event_json) as { id: string }).id;
        const ok = await new Promise<boolean>((resolve) => {
          waiting.set(eventId, resolve);
          ws.send(`["EVENT",${row.event_json}]`);
        });
        if (!ok) {
          refused++;
          continue;
        }
        const now = Date.now();
        settlements.push({ id: row.id, attempt: { results: [{ relay: relayUrl, ok: true, message: '' }], accepted: [relayUrl], nextAttemptAt: now, now }, finish: { status: 'delivered' } });
        if (settlements.length >= SETTLE_BATCH) await flush();
      }
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, rows.length) }, worker));
    await flush();
    return { delivered, refused, ms: Math.round(performance.now() - t0) };
  } finally {
    ws.close();
    await storage.close();
  }
}

function pendingRows(dbFile: string): Array<{ id: number; event_json: string }> {
  const db = openDatabase(dbFile, { readonly: true });
  try {
    return db.prepare<[], { id: number; event_json: string }>("SELECT id, event_json FROM outbox WHERE status = 'pending' ORDER BY id").all();
  } finally {
    db.close();
  }
}
